import {
  type ColumnSpec,
  type DataConnection,
  DataflowError,
  DataflowErrorCode,
  mapColumns,
  openDataConnection,
} from '@vansales/dataflow';
import { mariadbAdmin, open, readAll, throwawayMariadbDatabase, throwawayPostgres } from './support/databases';

const int = (name: string): ColumnSpec => ({
  name,
  type: { kind: 'integer', bits: 32 },
  nullable: false,
  nativeType: 'int',
});
const text = (name: string, maxLength?: number): ColumnSpec => ({
  name,
  type: { kind: 'text', ...(maxLength ? { maxLength } : {}) },
  nullable: true,
  nativeType: 'text',
});

describe('errors name table and column; identifiers are quoted or refused; queries are described', () => {
  let pgdb: Awaited<ReturnType<typeof throwawayPostgres>>;
  let my: Awaited<ReturnType<typeof throwawayMariadbDatabase>>;
  let pg: DataConnection;
  let mysql: DataConnection;

  beforeAll(async () => {
    pgdb = await throwawayPostgres();
    my = await throwawayMariadbDatabase();
    pg = await open(pgdb.config);
    mysql = await open(my.config);
  });
  afterAll(async () => {
    await pg?.close();
    await mysql?.close();
    await pgdb?.drop();
    await my?.drop();
  });

  it('refuses to map a geometry column, naming table and column', async () => {
    await mariadbAdmin(
      ['CREATE TABLE places (id INT PRIMARY KEY, name VARCHAR(20), location POINT NOT NULL)'],
      my.name,
    );
    const described = (await mysql.describeTable({ name: 'places' }))!;
    expect(described.columns[2]!.type).toEqual({ kind: 'unsupported', dialect: 'mysql', name: 'point' });
    let error: unknown;
    try {
      mapColumns(described.columns, 'postgres', 'places');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DataflowError);
    expect(error).toMatchObject({ code: DataflowErrorCode.UNMAPPABLE_TYPE, table: 'places', column: 'location' });
    expect((error as Error).message).toContain('places.location');
    await expect(pg.createTable({ name: 'places' }, described.columns, ['id'])).rejects.toMatchObject({
      code: DataflowErrorCode.UNMAPPABLE_TYPE,
      column: 'location',
    });
    expect(await pg.tableExists({ name: 'places' })).toBe(false);
    // Leaving the column out is how a transfer goes on without it.
    expect(mapColumns(described.columns.slice(0, 2), 'postgres', 'places').map((c) => c.nativeType)).toEqual([
      'integer',
      'character varying(20)',
    ]);
  });

  it.each(['postgres', 'mysql'] as const)('quotes hostile but legal names on %s (no injection)', async (dialect) => {
    const conn = dialect === 'postgres' ? pg : mysql;
    await conn.createTable({ name: 'victim' }, [int('id')], ['id']);
    const name = `x"; DROP TABLE victim; -- \`) ; DROP TABLE victim; #`;
    const columns = [int('id'), text('we"ird`col\'s name')];
    await conn.createTable({ name }, columns, ['id']);
    expect(await conn.tableExists({ name })).toBe(true);
    expect(await conn.tableExists({ name: 'victim' })).toBe(true);
    const described = (await conn.describeTable({ name }))!;
    expect(described.columns.map((c) => c.name)).toEqual(['id', 'we"ird`col\'s name']);
    await conn.writeRows({ name }, described.columns, [[1, "'); DROP TABLE victim; --"]], {
      mode: 'insert',
      keyColumns: [],
    });
    await conn.writeRows({ name }, described.columns, [[1, 'again']], { mode: 'upsert', keyColumns: ['id'] });
    expect(await readAll(conn, { name }, ['id'])).toEqual([[1, 'again']]);
    expect(await conn.deleteAfter({ name }, ['id'], [0])).toBe(1);
    expect(await conn.tableExists({ name: 'victim' })).toBe(true);
  });

  it.each(['postgres', 'mysql'] as const)('refuses names no server takes as given on %s', async (dialect) => {
    const conn = dialect === 'postgres' ? pg : mysql;
    const bad = ['', 'nul\u0000byte', 'new\nline', 'x'.repeat(65)];
    for (const name of bad) {
      await expect(conn.createTable({ name }, [int('id')], ['id'])).rejects.toMatchObject({
        code: DataflowErrorCode.BAD_IDENTIFIER,
      });
      await expect(conn.tableExists({ name })).rejects.toMatchObject({ code: DataflowErrorCode.BAD_IDENTIFIER });
    }
    await expect(
      conn.createTable({ name: 'ok_table' }, [int('id'), text('bad\u0000column')], ['id']),
    ).rejects.toMatchObject({ code: DataflowErrorCode.BAD_IDENTIFIER });
    if (dialect === 'mysql')
      await expect(conn.createTable({ name: 'trailing ' }, [int('id')], ['id'])).rejects.toMatchObject({
        code: DataflowErrorCode.BAD_IDENTIFIER,
      });
  });

  it('names table, column and row for values that cannot be written', async () => {
    const columns: ColumnSpec[] = [
      int('id'),
      { name: 'small', type: { kind: 'integer', bits: 16 }, nullable: true, nativeType: 'smallint' },
      { name: 'short', type: { kind: 'text', maxLength: 5 }, nullable: true, nativeType: 'varchar(5)' },
      { name: 'day', type: { kind: 'date' }, nullable: true, nativeType: 'date' },
      { name: 'clock', type: { kind: 'time', precision: 0 }, nullable: true, nativeType: 'time' },
    ];
    for (const conn of [pg, mysql]) {
      await conn.createTable({ name: 'strict' }, columns, ['id']);
      const write = (row: unknown[]) =>
        conn.writeRows({ name: 'strict' }, columns, [[1, 1, 'a', '2020-01-01', '10:00:00'], row], {
          mode: 'insert',
          keyColumns: [],
        });
      // Checked before anything is sent:
      await expect(write([2, 40000, 'a', null, null])).rejects.toMatchObject({
        code: DataflowErrorCode.BAD_VALUE,
        table: 'strict',
        column: 'small',
        row: 1,
      });
      await expect(write([2, 'x', 'a', null, null])).rejects.toMatchObject({
        code: DataflowErrorCode.BAD_VALUE,
        column: 'small',
        row: 1,
      });
      // Refused by the server, which names the column:
      await expect(write([2, 1, 'too long', null, null])).rejects.toMatchObject({
        code: DataflowErrorCode.BAD_VALUE,
        table: 'strict',
        column: 'short',
        row: 1,
      });
      await expect(write([2, 1, 'a', '2020-13-45', null])).rejects.toMatchObject({
        code: DataflowErrorCode.BAD_VALUE,
        table: 'strict',
        column: 'day',
        row: 1,
      });
      await expect(write([1, 1, 'a', null, null])).rejects.toMatchObject({
        code: DataflowErrorCode.WRITE_FAILED,
        table: 'strict',
      });
      await expect(
        conn.writeRows({ name: 'strict' }, columns, [[1, 2]], { mode: 'insert', keyColumns: [] }),
      ).rejects.toMatchObject({ code: DataflowErrorCode.BAD_VALUE, row: 0 });
      // One transaction per call: nothing of a failed batch stays.
      expect(await conn.countRows({ name: 'strict' })).toBe(0);
    }
    // MySQL TIME goes past 24 hours; PostgreSQL time does not.
    await expect(
      pg.writeRows({ name: 'strict' }, columns, [[1, 1, 'a', null, '100:00:00']], { mode: 'insert', keyColumns: [] }),
    ).rejects.toMatchObject({ code: DataflowErrorCode.BAD_VALUE, column: 'clock' });
    // PostgreSQL text cannot hold NUL.
    await expect(
      pg.writeRows({ name: 'strict' }, columns, [[1, 1, 'a\u0000', null, null]], { mode: 'insert', keyColumns: [] }),
    ).rejects.toMatchObject({ code: DataflowErrorCode.BAD_VALUE, column: 'short' });
    // Unknown columns and missing tables.
    await expect(
      pg.writeRows({ name: 'strict' }, [int('nope')], [[1]], { mode: 'insert', keyColumns: [] }),
    ).rejects.toMatchObject({ code: DataflowErrorCode.NOT_FOUND, column: 'nope' });
    await expect(
      mysql.writeRows({ name: 'missing' }, [int('id')], [[1]], { mode: 'insert', keyColumns: [] }),
    ).rejects.toMatchObject({ code: DataflowErrorCode.NOT_FOUND });
    expect(await pg.describeTable({ name: 'missing' })).toBeUndefined();
    await expect(
      mysql.writeRows({ name: 'strict' }, columns, [], { mode: 'upsert', keyColumns: ['nope'] }),
    ).rejects.toMatchObject({ code: DataflowErrorCode.BAD_REQUEST });
  });

  it('describes and streams read-only queries with parameters', async () => {
    await mariadbAdmin(
      [
        'CREATE TABLE q (id INT UNSIGNED PRIMARY KEY, name VARCHAR(20) NOT NULL, price DECIMAL(8,2), at DATETIME(3), j JSON, flag BOOLEAN)',
        "INSERT INTO q VALUES (1, 'a', 1.50, '2024-01-01 00:00:00.250', '[1]', 1), (2, 'b', NULL, NULL, NULL, 0)",
      ],
      my.name,
    );
    // (MariaDB drops NOT NULL from the metadata of window-function queries, so none here.)
    const cols = await mysql.describeQuery('SELECT id, name, price, at, j, flag FROM q');
    expect(cols.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['id', { kind: 'integer', bits: 32, unsigned: true }, false],
      ['name', { kind: 'text', maxLength: 20 }, false],
      ['price', { kind: 'decimal', precision: 8, scale: 2 }, true],
      ['at', { kind: 'timestamp', precision: 3, withTimeZone: false }, true],
      ['j', { kind: 'json' }, true],
      ['flag', { kind: 'boolean' }, true],
    ]);
    const rows: unknown[][] = [];
    for await (const b of mysql.readRows(
      { kind: 'query', sql: 'SELECT id, name, price, at, j, flag FROM q WHERE id >= ? ORDER BY id', params: [1] },
      { batchSize: 1 },
    ))
      rows.push(...b);
    expect(rows).toEqual([
      [1, 'a', '1.50', '2024-01-01 00:00:00.25', [1], true],
      [2, 'b', null, null, null, false],
    ]);

    await pg.createTable({ name: 'q' }, (await mysql.describeTable({ name: 'q' }))!.columns, ['id']);
    await pg.writeRows({ name: 'q' }, (await pg.describeTable({ name: 'q' }))!.columns, rows, {
      mode: 'insert',
      keyColumns: [],
    });
    const pgCols = await pg.describeQuery(
      'SELECT id, name, price, at, j, flag, id::text || name AS label, now() AS t FROM q',
    );
    expect(pgCols.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['id', { kind: 'integer', bits: 64 }, false],
      ['name', { kind: 'text', maxLength: 20 }, false],
      ['price', { kind: 'decimal', precision: 8, scale: 2 }, true],
      ['at', { kind: 'timestamp', precision: 3, withTimeZone: false }, true],
      ['j', { kind: 'json', binary: true }, true],
      ['flag', { kind: 'boolean' }, true],
      ['label', { kind: 'text' }, true],
      ['t', { kind: 'timestamp', withTimeZone: true }, true],
    ]);
    const pgRows: unknown[][] = [];
    for await (const b of pg.readRows(
      { kind: 'query', sql: 'SELECT id, name, price, at, j, flag FROM q WHERE id >= $1 ORDER BY id;', params: [1] },
      { batchSize: 1 },
    ))
      pgRows.push(...b);
    expect(pgRows).toEqual(rows);
  });

  it('refuses SQL Server connections clearly and validates config', async () => {
    await expect(
      openDataConnection({
        dialect: 'mssql',
        host: 'localhost',
        port: 1433,
        user: 'sa',
        password: 'x',
        database: 'db',
      }),
    ).rejects.toMatchObject({
      code: DataflowErrorCode.UNSUPPORTED_DIALECT,
    });
    await expect(
      openDataConnection({ dialect: 'postgres', host: 'localhost', port: 0, user: 'u', password: 'p', database: 'd' }),
    ).rejects.toMatchObject({ code: DataflowErrorCode.BAD_REQUEST });
    await expect(openDataConnection({ ...pgdb.config, password: 'wrong' })).rejects.toMatchObject({
      code: DataflowErrorCode.CONNECTION_FAILED,
    });
    await expect(openDataConnection({ ...my.config, password: 'wrong' })).rejects.toMatchObject({
      code: DataflowErrorCode.CONNECTION_FAILED,
    });
  });
});
