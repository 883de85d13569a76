import { Client } from 'pg';
import { type ColumnSpec, type DataConnection, DataflowErrorCode, tableChecksum } from '@vansales/dataflow';
import { comparable, copyTable, open, readAll, throwawayMariadbDatabase, throwawayPostgres } from './support/databases';
import { LineFields } from '../src/values/line-fields';

/**
 * PostgreSQL table with one column per PostgreSQL type family (arrays, uuid, timestamptz,
 * interval, jsonb, bytea, an enum type, a domain, PG-only types) -> MariaDB -> PostgreSQL.
 */
const SETUP = [
  "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'it''s')",
  'CREATE DOMAIN posint AS integer CHECK (VALUE > 0)',
  `CREATE TABLE types_pg (
    id integer PRIMARY KEY,
    i16 smallint, i32 integer, i64 bigint, num numeric(12,4), num_free numeric, r real, d double precision,
    b boolean, t text, vc varchar(20), ch char(5), by bytea,
    dt date, tm time, tm3 time(3), ttz timetz, ts timestamp, tstz timestamptz, tstz0 timestamptz(0), iv interval,
    j json, jb jsonb, u uuid, m mood, dom posint,
    arr_i int[], arr_t text[], arr_ts timestamptz[], arr_2d int[][], arr_m mood[],
    bits bit(8), vbits varbit(16), ip inet, net cidr, mac macaddr, tsv tsvector, x xml, cash money, rng int4range
  )`,
  `INSERT INTO types_pg VALUES
    (1, -32768, -2147483648, -9223372036854775808, -99999999.9999, -123456789012345678901234567890.123456789, -3.4028235e38, -1.7976931348623157e308,
     false, '', '', '', '\\x',
     '1000-01-01', '00:00:00', '00:00:00', '00:00:00+00', '1000-01-01 00:00:00', '1000-01-01 00:00:00+00', '1970-01-01 00:00:00+00', '-1 years -2 days',
     '{}', '{}', '00000000-0000-0000-0000-000000000000', 'sad', 1,
     '{}', '{}', '{}', '{}', '{}',
     B'00000000', B'', '0.0.0.0', '0.0.0.0/0', '00:00:00:00:00:00', '', '<a/>', -92233720368547758.08, 'empty'),
    (2, 32767, 2147483647, 9223372036854775807, 99999999.9999, 123456789012345678901234567890.123456789, 1.2345678, 0.1,
     true, E'tab\\there\\nnew line \\\\ backslash '' quote " dq', 'héllo wörld 😀 日本', 'ab', '\\x000102ff00',
     '9999-12-31', '23:59:59.999999', '12:34:56.789', '10:00:00.5+05:30', '9999-12-31 23:59:59.999999', '2022-03-04 05:06:07.000001+00', '2038-01-19 03:14:08+00', '1 year 2 months 3 days 04:05:06.789',
     '{"b": 1, "a": [1, 2, {"c": null}], "ü": "😀"}', '{"nested": {"x": [true, false]}, "n": 1.25}', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'it''s', 2147483647,
     '{1,NULL,3}', '{"a b","c,d","e\\"f",NULL,""}', '{"2022-01-01 10:00:00+00","2022-01-02 00:00:00.5+00"}', '{{1,2},{3,4}}', '{happy,sad}',
     B'10101010', B'101', '2001:db8::ff00:42:8329', '10.0.0.0/8', '08:00:2b:01:02:03', 'a fat cat:3 sat', '<doc><p lang="en">x</p></doc>', 12.34, '[1,10)'),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
];

async function pgAdmin(url: string, statements: string[]): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    for (const s of statements) await client.query(s);
  } finally {
    await client.end();
  }
}

describe('PostgreSQL type families -> MySQL -> PostgreSQL', () => {
  let pgdb: Awaited<ReturnType<typeof throwawayPostgres>>;
  let my: Awaited<ReturnType<typeof throwawayMariadbDatabase>>;
  let pg: DataConnection;
  let mysql: DataConnection;
  let columns: ColumnSpec[];
  let original: unknown[][];
  const url = () =>
    `postgres://${pgdb.config.user}:${encodeURIComponent(pgdb.config.password)}@${pgdb.config.host}:${pgdb.config.port}/${pgdb.name}`;

  beforeAll(async () => {
    pgdb = await throwawayPostgres();
    my = await throwawayMariadbDatabase();
    await pgAdmin(url(), SETUP);
    pg = await open(pgdb.config);
    mysql = await open(my.config);
    columns = (await pg.describeTable({ name: 'types_pg' }))!.columns;
    original = await readAll(pg, { name: 'types_pg' }, ['id']);
  });

  afterAll(async () => {
    await pg?.close();
    await mysql?.close();
    await pgdb?.drop();
    await my?.drop();
  });

  const col = (name: string) => columns.findIndex((c) => c.name === name);
  const cell = (rows: unknown[][], id: number, name: string) => rows.find((r) => r[0] === id)![col(name)];

  it('describes PostgreSQL types, enum types and domains canonically', () => {
    const types = Object.fromEntries(columns.map((c) => [c.name, c.type]));
    expect(types.num).toEqual({ kind: 'decimal', precision: 12, scale: 4 });
    expect(types.num_free).toEqual({ kind: 'decimal' });
    expect(types.ch).toEqual({ kind: 'text', maxLength: 5, fixed: true });
    expect(types.ttz).toEqual({ kind: 'time', withTimeZone: true });
    expect(types.tstz0).toEqual({ kind: 'timestamp', precision: 0, withTimeZone: true });
    expect(types.jb).toEqual({ kind: 'json', binary: true });
    expect(types.m).toEqual({ kind: 'enum', values: ['sad', 'ok', 'happy', "it's"], name: 'mood' });
    expect(types.dom).toEqual({ kind: 'integer', bits: 32 });
    expect(types.arr_ts).toEqual({ kind: 'array', element: { kind: 'timestamp', withTimeZone: true } });
    expect(types.arr_m).toEqual({
      kind: 'array',
      element: { kind: 'enum', values: ['sad', 'ok', 'happy', "it's"], name: 'mood' },
    });
    expect(types.vbits).toEqual({ kind: 'bit', length: 16, varying: true });
    expect(types.tsv).toEqual({ kind: 'other', dialect: 'postgres', name: 'tsvector' });
    expect(types.cash).toEqual({ kind: 'decimal' });
    expect(types.rng).toEqual({ kind: 'other', dialect: 'postgres', name: 'int4range' });
  });

  it('reads canonical wire values', () => {
    expect(cell(original, 1, 'i64')).toBe('-9223372036854775808');
    expect(cell(original, 2, 'r')).toBe(1.2345678);
    expect(cell(original, 2, 't')).toBe('tab\there\nnew line \\ backslash \' quote " dq');
    expect(cell(original, 2, 'ch')).toBe('ab');
    expect(cell(original, 2, 'by')).toEqual({ $binary: Buffer.from([0, 1, 2, 255, 0]).toString('base64') });
    expect(cell(original, 2, 'tstz')).toBe('2022-03-04T05:06:07.000001Z');
    expect(cell(original, 2, 'ts')).toBe('9999-12-31 23:59:59.999999');
    expect(cell(original, 2, 'iv')).toBe('P1Y2M3DT4H5M6.789S');
    expect(cell(original, 2, 'u')).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    expect(cell(original, 2, 'arr_t')).toEqual(['a b', 'c,d', 'e"f', null, '']);
    expect(cell(original, 2, 'arr_ts')).toEqual(['2022-01-01T10:00:00Z', '2022-01-02T00:00:00.5Z']);
    expect(cell(original, 2, 'arr_2d')).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(cell(original, 2, 'cash')).toBe('12.34');
    expect(cell(original, 2, 'j')).toEqual({ b: 1, a: [1, 2, { c: null }], ü: '😀' });
    expect(cell(original, 2, 'vbits')).toBe('101');
  });

  it('copies to MySQL and back with equal values', async () => {
    const there = await copyTable(pg, mysql, { name: 'types_pg' }, { name: 'types_pg' });
    expect(there.rows).toBe(3);
    const myDescribed = (await mysql.describeTable({ name: 'types_pg' }))!;
    const myTypes = Object.fromEntries(myDescribed.columns.map((c) => [c.name, c.nativeType]));
    expect(myTypes).toMatchObject({
      i64: 'bigint(20)',
      num_free: 'decimal(65,30)',
      b: 'tinyint(1)',
      t: 'longtext',
      vc: 'varchar(20)',
      ch: 'char(5)',
      by: 'longblob',
      ttz: 'varchar(32)',
      tstz: 'datetime(6)',
      iv: 'varchar(100)',
      j: 'json',
      u: 'char(36)',
      m: "enum('sad','ok','happy','it''s')",
      arr_i: 'json',
      bits: 'bit(8)',
      vbits: 'varchar(16)',
      ip: 'varchar(43)',
    });
    const inMy = await readAll(mysql, { name: 'types_pg' }, ['id']);
    expect(comparable(inMy, myDescribed.columns)).toEqual(comparable(original, columns));

    const back = await copyTable(mysql, pg, { name: 'types_pg' }, { name: 'types_back' });
    expect(back.rows).toBe(3);
    const backDescribed = (await pg.describeTable({ name: 'types_back' }))!;
    expect(comparable(await readAll(pg, { name: 'types_back' }, ['id']), backDescribed.columns)).toEqual(
      comparable(original, columns),
    );

    const a = await tableChecksum(pg, { name: 'types_pg' }, columns, ['id']);
    expect(await tableChecksum(mysql, { name: 'types_pg' }, columns, ['id'])).toEqual(a);
    expect(await tableChecksum(pg, { name: 'types_back' }, columns, ['id'])).toEqual(a);
  });

  it('copies PostgreSQL to PostgreSQL keeping NaN, infinities and native types', async () => {
    await pgAdmin(url(), [
      'CREATE TABLE specials (id int PRIMARY KEY, r real, d float8, n numeric, dt date, ts timestamptz, m mood, ip inet)',
      "INSERT INTO specials VALUES (1, 'NaN', 'Infinity', 'NaN', 'infinity', '-infinity', 'ok', '::1'), (2, '-Infinity', 'NaN', 1.5, '2020-01-01', '2020-01-01 00:00:00+00', 'happy', '10.1.2.3')",
    ]);
    await copyTable(pg, pg, { name: 'specials' }, { name: 'specials_copy' });
    const described = (await pg.describeTable({ name: 'specials_copy' }))!;
    expect(described.columns.map((c) => c.nativeType)).toEqual([
      'integer',
      'real',
      'double precision',
      'numeric',
      'date',
      'timestamp with time zone',
      'mood',
      'inet',
    ]);
    const rows = await readAll(pg, { name: 'specials_copy' }, ['id']);
    expect(rows).toEqual([
      [1, 'NaN', 'Infinity', 'NaN', 'infinity', '-infinity', 'ok', '::1'],
      [2, '-Infinity', 'NaN', '1.5', '2020-01-01', '2020-01-01T00:00:00Z', 'happy', '10.1.2.3'],
    ]);

    // MySQL has no room for NaN: the error names table and column.
    await mysql.createTable({ name: 'specials' }, described.columns, ['id']);
    const myCols = (await mysql.describeTable({ name: 'specials' }))!.columns;
    await expect(
      mysql.writeRows({ name: 'specials' }, myCols, rows, { mode: 'insert', keyColumns: [] }),
    ).rejects.toMatchObject({
      code: DataflowErrorCode.BAD_VALUE,
      table: 'specials',
      column: 'r',
      row: 0,
    });
  });

  it('inserts NDJSON lines by a COPY made from their bytes, every value equal, and takes nothing it must not', async () => {
    // The column kinds the fast path models (LineFields); the others always go by rows.
    const fast = columns.flatMap((c, i) =>
      ['integer', 'decimal', 'boolean', 'text', 'date', 'timestamp'].includes(c.type.kind) ||
      (c.type.kind === 'float' && c.type.bits === 64)
        ? [i]
        : [],
    );
    const fastColumns = fast.map((i) => columns[i]!);
    const names = fastColumns.map((c) => c.name);
    const source = await readAll(pg, { name: 'types_pg' }, ['id'], names);
    const ndjson = (rows: unknown[][]) => Buffer.from(`${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const insertLines = (rows: unknown[][], declared = fastColumns) =>
      pg.insertLines!({ name: 'lines_pg' }, fastColumns, declared, ndjson(rows), rows.length, {});
    await pg.createTable({ name: 'lines_pg' }, fastColumns, ['id']);
    const taken = source.filter((r) => {
      const text = ndjson([r]);
      return LineFields.for(
        'postgres',
        fastColumns.map((c) => c.type),
        fastColumns,
      )!.lines(text, 0, text.length);
    });
    // Most rows take the fast path (the others go by rows, below): it is not idle on real values.
    expect(taken.length).toBeGreaterThan(source.length / 2);
    await expect(insertLines(taken)).resolves.toEqual({ written: taken.length });
    const rest = source.filter((r) => !taken.includes(r));
    if (rest.length) {
      await expect(insertLines(rest)).resolves.toBeUndefined();
      await pg.writeRows({ name: 'lines_pg' }, fastColumns, rest, { mode: 'insert', keyColumns: ['id'] });
    }
    // Every value of every row equal to the source's, whichever way it went in.
    expect(await tableChecksum(pg, { name: 'lines_pg' }, fastColumns, ['id'])).toEqual(
      await tableChecksum(pg, { name: 'types_pg' }, fastColumns, ['id']),
    );
    const checksum = await tableChecksum(pg, { name: 'lines_pg' }, fastColumns, ['id']);
    // The same lines again: the duplicate key fails the COPY; nothing is written, the caller goes by rows.
    await expect(insertLines(taken)).resolves.toBeUndefined();
    // A value the manifest refuses (null in its NOT NULL key) is left to the row path, which names it.
    const nullKey = taken.map((r, k) => [k === 0 ? null : Number(r[0]) + 1000, ...r.slice(1)]);
    const declared = fastColumns.map((c, i) => (i === 0 ? { ...c, nullable: false } : c));
    await expect(insertLines(nullKey, declared)).resolves.toBeUndefined();
    expect(await tableChecksum(pg, { name: 'lines_pg' }, fastColumns, ['id'])).toEqual(checksum);
  });

  it('reads lines from a COPY byte for byte as JSON.stringify of the rows, on every type family and hostile values', async () => {
    await pgAdmin(url(), [
      `CREATE TABLE lines_edge (id int PRIMARY KEY, t text, f8 float8, f4 real, n numeric, i8 bigint, i2 smallint,
        tz timestamptz, ts timestamp, d date, b boolean, j jsonb, c char(5), a int[], by bytea, u uuid, iv interval)`,
      // Every control character, quotes, backslashes and COPY's own escapes, non-ASCII text; floats
      // PostgreSQL and JavaScript spell differently; the edges of the integers; zones, BC and infinities.
      `INSERT INTO lines_edge SELECT k,
        CASE k % 6 WHEN 0 THEN chr(1 + k % 31) || 'x' || chr(92) || 'N'
          WHEN 1 THEN E'tab\\there\\nnew\\rret\\\\back"quote''s\\b\\f\\v'
          WHEN 2 THEN 'Zoë 😀 日本 ' || chr(8232) || chr(127) WHEN 3 THEN '' WHEN 4 THEN E'\\\\N' ELSE repeat('a', k) END,
        (ARRAY[0, '-0', 1e-7, 1.5e-7, 1e15, 1e21, 1e300, 'NaN', 'Infinity', '-Infinity', 0.1, 123.456, 1e-4, 5e-324, -4986.703125, 100000000000000]::float8[])[1 + k % 16],
        (ARRAY[0.1, 3.4028235e38, 16777217, -0.5, 1e-3]::real[])[1 + k % 5],
        (ARRAY['NaN', '1e100', '-0.00', '12.50', '0.000000000000000000000000000001']::numeric[])[1 + k % 5],
        (ARRAY[9007199254740992, 9223372036854775807, -9223372036854775808, 12345, -999999999999999, 1000000000000000]::bigint[])[1 + k % 6],
        (ARRAY[-32768, 32767, 0]::smallint[])[1 + k % 3],
        (ARRAY['2020-01-02 13:23:43.5+00', 'infinity', '0044-03-15 10:00:00+00 BC', '1970-01-01 00:00:00+00']::timestamptz[])[1 + k % 4],
        (ARRAY['2020-01-02 13:23:43.123456', '-infinity', '0001-01-01 00:00:00 BC']::timestamp[])[1 + k % 3],
        (ARRAY['2000-01-18', 'infinity', '0010-01-01 BC']::date[])[1 + k % 3],
        k % 3 = 0,
        (ARRAY['{"a": [1, 2.50, "x\\"y"], "b": null}', '"text"', '1e2', '[]']::jsonb[])[1 + k % 4],
        (ARRAY['ab', 'abcde', '']::char(5)[])[1 + k % 3],
        CASE k % 3 WHEN 0 THEN '{1,NULL,3}'::int[] WHEN 1 THEN '{}'::int[] ELSE '{{1,2},{3,4}}'::int[] END,
        decode(lpad(to_hex(k), 8, '0'), 'hex'),
        md5(k::text)::uuid,
        make_interval(days => k, secs => k * 1.5)
        FROM generate_series(1, 250) k`,
      `INSERT INTO lines_edge (id) VALUES (1000)`,
    ]);
    const source = (table: string) => ({ kind: 'table' as const, table: { name: table }, orderBy: ['id'] });
    for (const table of ['lines_edge', 'types_pg']) {
      const viaRows: string[] = [];
      for await (const batch of pg.readRows(source(table), { batchSize: 7 }))
        for (const row of batch) viaRows.push(`${JSON.stringify(row)}\n`);
      const viaLines: Buffer[] = [];
      let rows = 0;
      const lasts: unknown[][] = [];
      for await (const batch of pg.readLines!(source(table), { batchSize: 7 })!) {
        viaLines.push(batch.lines);
        rows += batch.rows;
        lasts.push(batch.last);
      }
      expect(rows).toBe(viaRows.length);
      expect(Buffer.concat(viaLines).toString()).toBe(viaRows.join(''));
      // Each batch ends on its last row, parsed (a keyset position).
      expect(lasts.at(-1)).toEqual(JSON.parse(viaRows.at(-1)!));
      expect(lasts.length).toBe(Math.ceil(viaRows.length / 7));
    }
    // A keyset start or an incremental window reads by rows (COPY takes no parameters).
    expect(pg.readLines!({ ...source('lines_edge'), after: [5] }, { batchSize: 7 })).toBeUndefined();
  });

  it('upserts by key without duplicates, twice', async () => {
    await pg.createTable({ name: 'upserted' }, columns, ['id']);
    const update = original.map((r) => r.map((v, i) => (columns[i]!.name === 'vc' ? `v${String(r[0])}` : v)));
    await pg.writeRows({ name: 'upserted' }, columns, original, { mode: 'upsert', keyColumns: ['id'] });
    await pg.writeRows({ name: 'upserted' }, columns, update, { mode: 'upsert', keyColumns: ['id'] });
    // A batch that repeats a key: the last row wins.
    await pg.writeRows(
      { name: 'upserted' },
      columns,
      [update[0]!, update[0]!.map((v, i) => (columns[i]!.name === 'vc' ? 'last' : v))],
      { mode: 'upsert', keyColumns: ['id'] },
    );
    const rows = await readAll(pg, { name: 'upserted' }, ['id']);
    expect(rows.map((r) => r[col('vc')])).toEqual(['last', 'v2', 'v3']);
    expect(rows.map((r) => r[col('arr_ts')])).toEqual(original.map((r) => r[col('arr_ts')]));

    await mysql.createTable({ name: 'upserted' }, columns, ['id']);
    const myCols = (await mysql.describeTable({ name: 'upserted' }))!.columns;
    await mysql.writeRows({ name: 'upserted' }, myCols, original, { mode: 'upsert', keyColumns: ['id'] });
    await mysql.writeRows({ name: 'upserted' }, myCols, update, { mode: 'upsert', keyColumns: ['id'] });
    expect(await mysql.countRows({ name: 'upserted' })).toBe(3);
    expect((await readAll(mysql, { name: 'upserted' }, ['id'])).map((r) => r[col('vc')])).toEqual(['v1', 'v2', 'v3']);
  });
});
