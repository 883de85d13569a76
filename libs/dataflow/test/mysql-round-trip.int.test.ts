import { type ColumnSpec, type DataConnection, DataflowErrorCode, mapColumns, tableChecksum } from '@vansales/dataflow';
import {
  comparable,
  copyTable,
  mariadbAdmin,
  open,
  readAll,
  throwawayMariadbDatabase,
  throwawayPostgres,
} from './support/databases';

/**
 * MariaDB table with one column per MySQL type family and edge values -> PostgreSQL -> MariaDB,
 * canonical values compared at every step.
 */
const CREATE = `CREATE TABLE types_my (
  id INT NOT NULL PRIMARY KEY,
  i8 TINYINT, u8 TINYINT UNSIGNED, i16 SMALLINT, u16 SMALLINT UNSIGNED, i24 MEDIUMINT, u24 MEDIUMINT UNSIGNED,
  i32 INT, u32 INT UNSIGNED, i64 BIGINT, u64 BIGINT UNSIGNED,
  b BOOLEAN,
  d_small DECIMAL(5,2), d_big DECIMAL(65,30), d_int DECIMAL(20,0),
  f FLOAT, dbl DOUBLE,
  c CHAR(10), vc VARCHAR(100), vc_latin1 VARCHAR(50) CHARACTER SET latin1, vc_bin VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  tt TINYTEXT, t TEXT, mt MEDIUMTEXT, lt LONGTEXT,
  bin BINARY(4), vbin VARBINARY(16), bl BLOB, lbl LONGBLOB,
  dt DATE, tm TIME, tm6 TIME(6), dtm DATETIME, dtm6 DATETIME(6), ts TIMESTAMP NULL DEFAULT NULL, ts3 TIMESTAMP(3) NULL DEFAULT NULL,
  y YEAR, bt BIT(10), bt1 BIT(1),
  j JSON, e ENUM('small','medium','large','it''s'), s SET('a','b','c'),
  u UUID, ip INET6
) CHARACTER SET utf8mb4`;

const LONG = 'ü'.repeat(70_000);
const INSERTS = [
  `INSERT INTO types_my VALUES (1,
    -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
    0,
    -999.99, -99999999999999999999999999999999999.999999999999999999999999999999, -99999999999999999999,
    -3.40282e38, -1.7976931348623157e308,
    '', '', '', '', '', '', '', '',
    0x00000000, X'', X'', X'',
    '1000-01-01', '00:00:00', '00:00:00.000000', '1000-01-01 00:00:00', '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01', '1970-01-01 00:00:01.000',
    1901, b'0000000000', b'0',
    '{}', 'small', '',
    '00000000-0000-0000-0000-000000000000', '::')`,
  `INSERT INTO types_my VALUES (2,
    127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
    1,
    999.99, 99999999999999999999999999999999999.999999999999999999999999999999, 99999999999999999999,
    1.2345678, 0.1,
    'abcdefghij', 'héllo wörld 😀 日本語 ∑', 'café crème à la française', 'CaseSensitive',
    'x', 'with\\ttab\\nnewline \\\\ backslash '' quote " dq', '${LONG}', '😀🎉 emoji only',
    0x00010000, 0x00ff00, 0x000102030405fffe00, 0xdeadbeef,
    '9999-12-31', '23:59:59', '12:34:56.000100', '9999-12-31 23:59:59', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07', '2022-06-01 12:00:00.500',
    2155, b'1111111111', b'1',
    '{"nested": {"a": [1, 2, {"b": null}], "ü": "ünïcödé 😀"}, "n": 1.5, "t": true, "s": "q\\\\"uote"}', 'it''s', 'a,c',
    'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '2001:db8::ff00:42:8329')`,
  `INSERT INTO types_my (id) VALUES (3)`,
  `INSERT INTO types_my VALUES (4,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1,
    0.5, 0.000000000000000000000000000001, 1,
    -0.5, 3.141592653589793,
    'pad   ', 'trailing space ', 'Ångström', 'a',
    'tiny', 'text', 'medium', 'long',
    0x61, 0x62, 0x63, 0x64,
    '2024-02-29', '10:00:00', '10:00:00.000000', '2024-02-29 12:00:00', '2024-02-29 12:00:00.000001', '2024-02-29 12:00:00', '2024-02-29 12:00:00.001',
    2024, b'0000000001', b'0',
    '[1, "two", 3.25, null]', 'large', 'a,b,c',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '::ffff:192.168.0.1')`,
];

/** LOAD DATA statements the server has run (a global counter: other test files' loads count too). */
const loadStatements = async () =>
  Number(((await mariadbAdmin("SHOW GLOBAL STATUS LIKE 'Com_load'"))[0] as { Value: string }[])[0]!.Value);

describe('MySQL type families -> PostgreSQL -> MySQL', () => {
  let my: Awaited<ReturnType<typeof throwawayMariadbDatabase>>;
  let pgdb: Awaited<ReturnType<typeof throwawayPostgres>>;
  let src: DataConnection;
  let pg: DataConnection;
  let columns: ColumnSpec[];
  let original: unknown[][];

  beforeAll(async () => {
    my = await throwawayMariadbDatabase();
    pgdb = await throwawayPostgres();
    await mariadbAdmin([CREATE, ...INSERTS], my.name);
    src = await open(my.config);
    pg = await open(pgdb.config);
    const described = await src.describeTable({ name: 'types_my' });
    columns = described!.columns;
    original = await readAll(src, { name: 'types_my' }, ['id']);
  });

  afterAll(async () => {
    await src?.close();
    await pg?.close();
    await my?.drop();
    await pgdb?.drop();
  });

  const col = (name: string) => columns.findIndex((c) => c.name === name);
  const cell = (rows: unknown[][], id: number, name: string) => rows.find((r) => r[0] === id)![col(name)];

  it('describes every MySQL type family canonically', () => {
    const types = Object.fromEntries(columns.map((c) => [c.name, c.type]));
    expect(types.u32).toEqual({ kind: 'integer', bits: 32, unsigned: true });
    expect(types.u64).toEqual({ kind: 'integer', bits: 64, unsigned: true });
    expect(types.b).toEqual({ kind: 'boolean' });
    expect(types.d_big).toEqual({ kind: 'decimal', precision: 65, scale: 30 });
    expect(types.f).toEqual({ kind: 'float', bits: 32 });
    expect(types.c).toMatchObject({ kind: 'text', maxLength: 10, fixed: true, charset: 'utf8mb4' });
    expect(types.vc_latin1).toMatchObject({ kind: 'text', maxLength: 50, charset: 'latin1' });
    expect(types.lt).toMatchObject({ kind: 'text' });
    expect(types.bin).toEqual({ kind: 'binary', maxLength: 4, fixed: true });
    expect(types.bl).toEqual({ kind: 'binary' });
    expect(types.tm6).toEqual({ kind: 'time', precision: 6 });
    expect(types.dtm).toEqual({ kind: 'timestamp', precision: 0, withTimeZone: false });
    expect(types.ts3).toEqual({ kind: 'timestamp', precision: 3, withTimeZone: true });
    expect(types.y).toEqual({ kind: 'year' });
    expect(types.bt).toEqual({ kind: 'bit', length: 10 });
    expect(types.j).toEqual({ kind: 'json' });
    expect(types.e).toEqual({ kind: 'enum', values: ['small', 'medium', 'large', "it's"] });
    expect(types.s).toEqual({ kind: 'set', values: ['a', 'b', 'c'] });
    expect(types.u).toEqual({ kind: 'uuid' });
    expect(types.ip).toEqual({ kind: 'other', dialect: 'mysql', name: 'inet6' });
  });

  it('reads canonical wire values', () => {
    expect(cell(original, 1, 'i64')).toBe('-9223372036854775808');
    expect(cell(original, 2, 'i64')).toBe('9223372036854775807');
    expect(cell(original, 2, 'u64')).toBe('18446744073709551615');
    expect(cell(original, 2, 'u32')).toBe(4294967295);
    expect(cell(original, 2, 'b')).toBe(true);
    expect(cell(original, 2, 'd_big')).toBe('99999999999999999999999999999999999.999999999999999999999999999999');
    expect(cell(original, 2, 'f')).toBe(1.2345678);
    expect(cell(original, 2, 'dbl')).toBe(0.1);
    expect(cell(original, 2, 'vc')).toBe('héllo wörld 😀 日本語 ∑');
    expect(cell(original, 2, 'vc_latin1')).toBe('café crème à la française');
    expect(cell(original, 2, 't')).toBe('with\ttab\nnewline \\ backslash \' quote " dq');
    expect(cell(original, 2, 'bin')).toEqual({ $binary: Buffer.from([0, 1, 0, 0]).toString('base64') });
    expect(cell(original, 1, 'vbin')).toEqual({ $binary: '' });
    expect(cell(original, 2, 'tm6')).toBe('12:34:56.0001');
    expect(cell(original, 4, 'tm6')).toBe('10:00:00');
    expect(cell(original, 2, 'dtm6')).toBe('9999-12-31 23:59:59.999999');
    expect(cell(original, 2, 'ts')).toBe('2038-01-19T03:14:07Z');
    expect(cell(original, 2, 'ts3')).toBe('2022-06-01T12:00:00.5Z');
    expect(cell(original, 2, 'bt')).toBe('1111111111');
    expect(cell(original, 2, 'j')).toEqual({
      nested: { a: [1, 2, { b: null }], ü: 'ünïcödé 😀' },
      n: 1.5,
      t: true,
      s: 'q"uote',
    });
    expect(cell(original, 2, 's')).toEqual(['a', 'c']);
    expect(cell(original, 1, 's')).toEqual([]);
    expect(cell(original, 2, 'u')).toBe('ffffffff-ffff-ffff-ffff-ffffffffffff');
    expect(cell(original, 4, 'c')).toBe('pad');
    expect(
      original
        .find((r) => r[0] === 3)!
        .slice(1)
        .every((v) => v === null),
    ).toBe(true);
  });

  it('copies to PostgreSQL and back with equal values', async () => {
    const there = await copyTable(src, pg, { name: 'types_my' }, { name: 'types_my' });
    expect(there.rows).toBe(4);
    const pgDescribed = (await pg.describeTable({ name: 'types_my' }))!;
    const pgTypes = Object.fromEntries(pgDescribed.columns.map((c) => [c.name, c.nativeType]));
    expect(pgTypes).toMatchObject({
      u8: 'smallint',
      u16: 'integer',
      u32: 'bigint',
      u64: 'numeric(20,0)',
      b: 'boolean',
      d_big: 'numeric(65,30)',
      f: 'real',
      dbl: 'double precision',
      c: 'character(10)',
      lt: 'text',
      bl: 'bytea',
      tm6: 'time(6) without time zone',
      ts: 'timestamp(0) with time zone',
      dtm6: 'timestamp(6) without time zone',
      y: 'smallint',
      bt: 'bit(10)',
      j: 'jsonb',
      e: 'types_my_e',
      s: 'text[]',
      u: 'uuid',
      ip: 'inet',
    });
    const inPg = await readAll(pg, { name: 'types_my' }, ['id']);
    expect(comparable(inPg, pgDescribed.columns)).toEqual(comparable(original, columns));
    // Same family, same canonical value: no normalisation needed.
    for (const name of [
      'i64',
      'u32',
      'b',
      'd_big',
      'f',
      'dbl',
      'vc',
      't',
      'bin',
      'tm6',
      'dtm6',
      'ts',
      'ts3',
      'bt',
      'j',
      's',
      'u',
      'e',
      'c',
    ]) {
      expect(inPg.map((r) => r[col(name)])).toEqual(original.map((r) => r[col(name)]));
    }

    const back = await copyTable(pg, src, { name: 'types_my' }, { name: 'types_back' });
    expect(back.rows).toBe(4);
    const backDescribed = (await src.describeTable({ name: 'types_back' }))!;
    const inBack = await readAll(src, { name: 'types_back' }, ['id']);
    expect(comparable(inBack, backDescribed.columns)).toEqual(comparable(original, columns));

    const a = await tableChecksum(src, { name: 'types_my' }, columns, ['id']);
    const b = await tableChecksum(pg, { name: 'types_my' }, columns, ['id']);
    const c = await tableChecksum(src, { name: 'types_back' }, columns, ['id']);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });

  it('upserts by key without duplicates, twice', async () => {
    await pg.createTable({ name: 'upserted' }, columns, ['id']);
    const target = (await pg.describeTable({ name: 'upserted' }))!.columns;
    await pg.writeRows({ name: 'upserted' }, target, original, { mode: 'upsert', keyColumns: ['id'] });
    const changed = original.map((r) => r.map((v, i) => (columns[i]!.name === 'vc' ? `changed ${String(r[0])}` : v)));
    await pg.writeRows({ name: 'upserted' }, target, changed, { mode: 'upsert', keyColumns: ['id'] });
    expect(await pg.countRows({ name: 'upserted' })).toBe(4);
    const rows = await readAll(pg, { name: 'upserted' }, ['id']);
    expect(rows.map((r) => r[col('vc')])).toEqual(['changed 1', 'changed 2', 'changed 3', 'changed 4']);

    await src.createTable({ name: 'upserted' }, columns, ['id']);
    await src.writeRows({ name: 'upserted' }, columns, original, { mode: 'upsert', keyColumns: ['id'] });
    await src.writeRows({ name: 'upserted' }, columns, changed, { mode: 'upsert', keyColumns: ['id'] });
    expect(await src.countRows({ name: 'upserted' })).toBe(4);
    const myRows = await readAll(src, { name: 'upserted' }, ['id']);
    expect(myRows.map((r) => r[col('vc')])).toEqual(['changed 1', 'changed 2', 'changed 3', 'changed 4']);
    expect(myRows.map((r) => r[col('t')])).toEqual(original.map((r) => r[col('t')]));
  });

  it('inserts into a fresh table by LOAD DATA LOCAL INFILE with every value equal, and by INSERT when the server refuses it', async () => {
    // Binary and bit values need an expression (X'..', b'..'): such rows go by INSERT, tested above.
    const keep = columns.flatMap((c, i) => (c.type.kind === 'binary' || c.type.kind === 'bit' ? [] : [i]));
    const plainColumns = keep.map((i) => columns[i]!);
    const plainRows = original.map((r) => keep.map((i) => r[i]));
    // Decimals past double precision, 64-bit integers, '' next to NULL, dates, JSON, quotes and backslashes.
    const expected = await tableChecksum(src, { name: 'types_my' }, plainColumns, ['id']);

    await src.createTable({ name: 'loaded' }, plainColumns, ['id']);
    const before = await loadStatements();
    await src.writeRows({ name: 'loaded' }, plainColumns, plainRows, { mode: 'insert', keyColumns: ['id'] });
    expect(await loadStatements()).toBeGreaterThan(before);
    expect(await tableChecksum(src, { name: 'loaded' }, plainColumns, ['id'])).toEqual(expected);

    // LOCAL turns a duplicate key or a clipped value into a warning: such a load is rolled back and the
    // INSERT statements fail as they always did (a duplicate key is what switches a load to upserts).
    const insert = (rows: unknown[][]) =>
      src.writeRows({ name: 'loaded' }, plainColumns, rows, { mode: 'insert', keyColumns: ['id'] });
    await expect(insert(plainRows)).rejects.toMatchObject({ cause: { errno: 1062 } });
    const vc = plainColumns.findIndex((c) => c.name === 'vc');
    const tooLong = plainRows.map((r) => r.map((v, i) => (i === 0 ? Number(v) + 100 : i === vc ? 'x'.repeat(101) : v)));
    await expect(insert(tooLong)).rejects.toMatchObject({ code: DataflowErrorCode.BAD_VALUE });
    expect(await tableChecksum(src, { name: 'loaded' }, plainColumns, ['id'])).toEqual(expected);

    // A server with local_infile off: the same rows go by INSERT statements, equal all the same.
    await mariadbAdmin('SET GLOBAL local_infile = 0');
    const refused = await open(my.config);
    try {
      await refused.createTable({ name: 'inserted' }, plainColumns, ['id']);
      await refused.writeRows({ name: 'inserted' }, plainColumns, plainRows, { mode: 'insert', keyColumns: ['id'] });
      await refused.writeRows({ name: 'inserted' }, plainColumns, [], { mode: 'insert', keyColumns: ['id'] });
      expect(await tableChecksum(refused, { name: 'inserted' }, plainColumns, ['id'])).toEqual(expected);
    } finally {
      await mariadbAdmin('SET GLOBAL local_infile = 1');
      await refused.close();
    }
  });

  it('inserts NDJSON lines by LOAD DATA made from their bytes, every value equal, and takes nothing it must not', async () => {
    // The column kinds the fast path models (InfileLines); the others always go by rows.
    const fast = columns.flatMap((c, i) =>
      ['integer', 'decimal', 'boolean', 'text', 'date', 'timestamp'].includes(c.type.kind) ||
      (c.type.kind === 'float' && c.type.bits === 64)
        ? [i]
        : [],
    );
    const fastColumns = fast.map((i) => columns[i]!);
    const fastRows = original.map((r) => fast.map((i) => r[i]));
    const ndjson = (rows: unknown[][]) => Buffer.from(`${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const insertLines = (table: string, rows: unknown[][], declared = fastColumns) =>
      src.insertLines!({ name: table }, fastColumns, declared, ndjson(rows), rows.length, {});
    const names = fastColumns.map((c) => c.name);
    await src.createTable({ name: 'lines' }, fastColumns, ['id']);

    // Row 1's DOUBLE is -1.7976931348623157e308: past the exponents the fast path takes, so these
    // lines go by rows (undefined) and nothing of them is written.
    await expect(insertLines('lines', fastRows)).resolves.toBeUndefined();
    expect(await src.countRows({ name: 'lines' })).toBe(0);

    // The other rows: 64-bit extremes, decimals past double precision, '' beside NULL, quotes,
    // backslashes, tabs and newlines, 70,000 characters of ü, emoji, dates and instants.
    const rest = fastRows.filter((r) => r[0] !== 1);
    const before = await loadStatements();
    await expect(insertLines('lines', rest)).resolves.toEqual({ written: rest.length });
    // The server's counter is global: other test files' loads on the same server may add to it too.
    expect(await loadStatements()).toBeGreaterThan(before);
    expect(comparable(await readAll(src, { name: 'lines' }, ['id'], names), fastColumns)).toEqual(
      comparable(
        (await readAll(src, { name: 'types_my' }, ['id'], names)).filter((r) => r[0] !== 1),
        fastColumns,
      ),
    );
    // Row 1 by rows after it: the table then holds every row of the source.
    await src.writeRows({ name: 'lines' }, fastColumns, [fastRows[0]!], { mode: 'insert', keyColumns: ['id'] });
    expect(await tableChecksum(src, { name: 'lines' }, fastColumns, ['id'])).toEqual(
      await tableChecksum(src, { name: 'types_my' }, fastColumns, ['id']),
    );

    // The same lines again: their duplicate keys make LOAD DATA warn, so nothing is kept and the
    // caller goes by rows (where the duplicate switches the load to upserts).
    const checksum = await tableChecksum(src, { name: 'lines' }, fastColumns, ['id']);
    await expect(insertLines('lines', rest)).resolves.toBeUndefined();
    // A value the manifest refuses (null in its NOT NULL key) is left to the row path, which names it.
    const nullKey = fastRows.map((r, k) => (k === 1 ? [null, ...r.slice(1)] : [Number(r[0]) + 100, ...r.slice(1)]));
    const declared = fastColumns.map((c, i) => (i === 0 ? { ...c, nullable: false } : c));
    await expect(insertLines('lines', nullKey.slice(1), declared)).resolves.toBeUndefined();
    expect(await tableChecksum(src, { name: 'lines' }, fastColumns, ['id'])).toEqual(checksum);
  });

  it('names a PostgreSQL enum type after the table it creates, whatever label mapColumns had', async () => {
    const mapped = mapColumns(columns, 'postgres', 'site.db.types_my');
    await pg.createTable({ name: 'enum_label' }, mapped, ['id']);
    const described = (await pg.describeTable({ name: 'enum_label' }))!;
    expect(described.columns.find((c) => c.name === 'e')).toMatchObject({
      nativeType: 'enum_label_e',
      type: { kind: 'enum', name: 'enum_label_e' },
    });
    expect(described.primaryKey).toEqual(['id']);
  });

  it('keeps 1 as 1 and refuses 2 in a tinyint(1) read as boolean', async () => {
    await mariadbAdmin(
      ['CREATE TABLE flags (id INT PRIMARY KEY, f TINYINT(1))', 'INSERT INTO flags VALUES (1, 1), (2, 2)'],
      my.name,
    );
    await expect(readAll(src, { name: 'flags' }, ['id'])).rejects.toMatchObject({
      code: DataflowErrorCode.BAD_VALUE,
      table: 'flags',
      column: 'f',
    });
    const asInteger = await open({ ...my.config, mysqlTinyint1: 'integer' });
    try {
      expect(await readAll(asInteger, { name: 'flags' }, ['id'])).toEqual([
        [1, 1],
        [2, 2],
      ]);
    } finally {
      await asInteger.close();
    }
  });
});
