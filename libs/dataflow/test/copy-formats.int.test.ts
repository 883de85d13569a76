import { Client } from 'pg';
import { type DataConnection, DataflowErrorCode } from '@vansales/dataflow';
import { open, readAll, throwawayPostgres } from './support/databases';

/**
 * PostgreSQL writes go through COPY binary when every column's type has a binary encoder and
 * through COPY text otherwise. The same rows written both ways must read back identically.
 */
const COLUMNS = `id int PRIMARY KEY, b boolean, i2 smallint, i4 integer, i8 bigint, r real, d double precision, n numeric, n4 numeric(12,4),
  t text, vc varchar(10), ch char(5), by bytea, dt date, tm time, tm0 time(0), ts timestamp, ts0 timestamp(0), tstz timestamptz,
  u uuid, j json, jb jsonb, m mood, dom posint`;

const ROWS: unknown[][] = [
  [
    1,
    true,
    -32768,
    -2147483648,
    '-9223372036854775808',
    1.2345678,
    0.1,
    '0',
    '12.5',
    '',
    'ab',
    'ab',
    { $binary: '' },
    '1000-01-01',
    '00:00:00',
    '12:34:56.5',
    '1000-01-01 00:00:00',
    '2000-01-01 00:00:00.7',
    '1970-01-01T00:00:00Z',
    'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
    { a: [1, 'x'] },
    { nested: { ü: '😀' }, n: 1.25 },
    'sad',
    1,
  ],
  [
    2,
    false,
    32767,
    2147483647,
    '9223372036854775807',
    3.4028235e38,
    1.7976931348623157e308,
    '-123456789012345678901234567890.123456789012345678901',
    '-0.0001',
    'tab\there\nnew \\ line 😀 日本',
    'héllo',
    'abcde',
    { $binary: Buffer.from([0, 1, 0, 255]).toString('base64') },
    '9999-12-31',
    '23:59:59.999999',
    '24:00:00',
    '9999-12-31 23:59:59.999999',
    '1999-12-31 23:59:59',
    '2022-03-04T05:06:07.000001Z',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    'a string',
    [true, null, 2],
    'happy',
    2147483647,
  ],
  [
    3,
    null,
    0,
    0,
    0,
    'NaN',
    'Infinity',
    'NaN',
    '0.00005',
    'x',
    null,
    null,
    null,
    '0044-03-15 BC',
    null,
    null,
    '0044-03-15 10:00:00.25 BC',
    '1969-12-31 23:59:59.999999',
    '-infinity',
    null,
    1.5,
    null,
    null,
    null,
  ],
  [
    4,
    true,
    -1,
    -1,
    -1,
    '-Infinity',
    -0.5,
    'Infinity',
    '99999999.9999',
    'y',
    'z',
    'z',
    { $binary: 'AA==' },
    'infinity',
    '10:00:00.1234565',
    '10:00:00.5',
    'infinity',
    '2024-02-29 12:00:00',
    '2022-01-01T12:00:00+02:00',
    '00000000-0000-0000-0000-000000000000',
    [],
    {},
    'ok',
    42,
  ],
  [
    5,
    false,
    1,
    1,
    9007199254740993n.toString(),
    0,
    -1e-300,
    '1e21',
    '0.5',
    'w'.repeat(100_000),
    'v',
    'v',
    { $binary: Buffer.alloc(70_000, 7).toString('base64') },
    '2000-01-01',
    '00:00:00.000001',
    '00:00:00',
    '200000-06-15 12:00:00.5',
    '1900-02-28 23:00:00',
    '2262-04-11T23:47:16.854775Z',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    { big: 12345678901234 },
    'str',
    "it's",
    7,
  ],
];

describe('COPY binary and text formats give the same rows', () => {
  let db: Awaited<ReturnType<typeof throwawayPostgres>>;
  let pg: DataConnection;

  beforeAll(async () => {
    db = await throwawayPostgres();
    const client = new Client({
      host: db.config.host,
      port: db.config.port,
      user: db.config.user,
      password: db.config.password,
      database: db.name,
    });
    await client.connect();
    await client.query("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'it''s')");
    await client.query('CREATE DOMAIN posint AS integer CHECK (VALUE > 0)');
    await client.query(`CREATE TABLE as_binary (${COLUMNS})`);
    // The interval column has no binary encoder: this table is written as COPY text.
    await client.query(`CREATE TABLE as_text (${COLUMNS}, iv interval)`);
    await client.end();
    pg = await open(db.config);
  });
  afterAll(async () => {
    await pg?.close();
    await db?.drop();
  });

  it.each(['insert', 'upsert'] as const)('writes the same values either way (%s)', async (mode) => {
    const binaryCols = (await pg.describeTable({ name: 'as_binary' }))!.columns;
    const textCols = (await pg.describeTable({ name: 'as_text' }))!.columns;
    if (mode === 'upsert') {
      await pg.deleteAfter({ name: 'as_binary' }, ['id'], []);
      await pg.deleteAfter({ name: 'as_text' }, ['id'], []);
    }
    await pg.writeRows({ name: 'as_binary' }, binaryCols, ROWS, { mode, keyColumns: ['id'] });
    await pg.writeRows(
      { name: 'as_text' },
      textCols,
      ROWS.map((r) => [...r, 'P1D']),
      { mode, keyColumns: ['id'] },
    );
    const viaBinary = await readAll(pg, { name: 'as_binary' }, ['id']);
    const viaText = (await readAll(pg, { name: 'as_text' }, ['id'])).map((r) => r.slice(0, -1));
    expect(viaBinary).toEqual(viaText);
    const byId = (id: number) => viaBinary.find((r) => r[0] === id)!;
    const col = (name: string) => binaryCols.findIndex((c) => c.name === name);
    expect(byId(2)[col('i8')]).toBe('9223372036854775807');
    expect(byId(2)[col('n')]).toBe('-123456789012345678901234567890.123456789012345678901');
    expect(byId(1)[col('n4')]).toBe('12.5000');
    expect(byId(2)[col('t')]).toBe('tab\there\nnew \\ line 😀 日本');
    expect(byId(2)[col('ch')]).toBe('abcde');
    expect(byId(3)[col('dt')]).toBe('0044-03-15 BC');
    expect(byId(3)[col('ts')]).toBe('0044-03-15 10:00:00.25 BC');
    expect(byId(4)[col('tstz')]).toBe('2022-01-01T10:00:00Z');
    expect(byId(4)[col('tm')]).toBe('10:00:00.123456'); // PostgreSQL rounds the 7th digit as a double
    expect(byId(1)[col('ts0')]).toBe('2000-01-01 00:00:01');
    expect(byId(2)[col('tm0')]).toBe('24:00:00');
    expect(byId(5)[col('n')]).toBe('1000000000000000000000');
    expect(byId(5)[col('tstz')]).toBe('2262-04-11T23:47:16.854775Z');
    expect(byId(1)[col('u')]).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    expect(byId(3)[col('r')]).toBe('NaN');
    expect(byId(4)[col('n')]).toBe('Infinity');
  });

  it('refuses in binary what the text format refuses, naming the column', async () => {
    const cols = (await pg.describeTable({ name: 'as_binary' }))!.columns;
    const base = [...ROWS[0]!];
    base[0] = 100;
    const withValue = (name: string, value: unknown) => {
      const row = [...base];
      row[cols.findIndex((c) => c.name === name)] = value;
      return pg.writeRows({ name: 'as_binary' }, cols, [row], { mode: 'insert', keyColumns: [] });
    };
    await expect(withValue('dt', '2023-02-29')).rejects.toMatchObject({
      code: DataflowErrorCode.BAD_VALUE,
      column: 'dt',
    });
    await expect(withValue('ts', 'yesterday')).rejects.toMatchObject({
      code: DataflowErrorCode.BAD_VALUE,
      column: 'ts',
    });
    await expect(withValue('i2', 40000)).rejects.toMatchObject({ code: DataflowErrorCode.BAD_VALUE, column: 'i2' });
    await expect(withValue('i8', '9223372036854775808')).rejects.toMatchObject({
      code: DataflowErrorCode.BAD_VALUE,
      column: 'i8',
    });
    await expect(withValue('r', 1e39)).rejects.toMatchObject({ code: DataflowErrorCode.BAD_VALUE, column: 'r' });
    await expect(withValue('n', '12abc')).rejects.toMatchObject({ code: DataflowErrorCode.BAD_VALUE, column: 'n' });
    await expect(withValue('n4', '123456789.5')).rejects.toMatchObject({
      code: DataflowErrorCode.BAD_VALUE,
      column: 'n4',
    });
    await expect(withValue('vc', 'longer than ten')).rejects.toMatchObject({
      code: DataflowErrorCode.BAD_VALUE,
      column: 'vc',
    });
    await expect(withValue('t', 'nul \u0000 inside')).rejects.toMatchObject({
      code: DataflowErrorCode.BAD_VALUE,
      column: 't',
    });
    await expect(withValue('m', 'angry')).rejects.toMatchObject({ code: DataflowErrorCode.BAD_VALUE, column: 'm' });
    await expect(withValue('dom', -1)).rejects.toMatchObject({
      code: DataflowErrorCode.WRITE_FAILED,
      table: 'as_binary',
    });
    await expect(withValue('u', 'not-a-uuid')).rejects.toMatchObject({
      code: DataflowErrorCode.BAD_VALUE,
      column: 'u',
    });
    expect(await pg.countRows({ name: 'as_binary' })).toBe(ROWS.length);
  });
});
