import {
  ALLOW_ALL,
  DataflowErrorCode,
  decodeChunk,
  extractRanges,
  keyText,
  rangeChecksums,
  rowHash,
  type ColumnSpec,
  type DataConnection,
} from '@vansales/dataflow';
import { mariadbAdmin, open, throwawayMariadbDatabase, throwawayPostgres } from './support/databases';
import { Client } from 'pg';

/*
 * A bi-directional sync compares MariaDB and PostgreSQL by checksums each database computes: equal
 * rows must render to the same text on both, for every kind a sync accepts, NULL and empty text
 * apart, whatever the session's time zone; the rows read back hash alike in JS too.
 */
const ROWS: [number, string | null, 0 | 1, string, string | null, string, string | null, 'a' | 'b'][] = [
  [1, 'plain', 1, '1.500', '2020-02-29', '2026-01-01 10:00:00.123456', '2026-01-01 10:00:00.123', 'a'],
  [2, null, 0, '-12.000', null, '1999-12-31 23:59:59.000000', null, 'b'],
  [3, '', 1, '0.001', '1970-01-01', '2026-06-30 00:00:00.500000', '2026-06-30 12:00:00.000', 'a'],
  [4, 'a,b|c:d', 0, '123456789.999', '2000-01-01', '2026-01-01 00:00:00.000001', '2026-03-29 01:30:00.000', 'b'],
  [5, 'Żółw 🐢 ß', 1, '7.000', '2024-12-31', '2026-01-01 10:00:00.000000', '2026-10-25 02:30:00.999', 'a'],
  [100, '2', 1, '2.000', '2024-01-01', '2026-01-01 10:00:00.000000', '2026-01-01 10:00:00.000', 'b'],
];

describe('range checksums agree across MariaDB and PostgreSQL', () => {
  let maria: Awaited<ReturnType<typeof throwawayMariadbDatabase>>;
  let pgDb: Awaited<ReturnType<typeof throwawayPostgres>>;
  let my: DataConnection;
  let pg: DataConnection;
  let pgAdmin: Client;
  const table = { name: 't' };
  const request = { database: 'db', table, keyColumns: ['id'], policy: ALLOW_ALL };

  beforeAll(async () => {
    maria = await throwawayMariadbDatabase();
    await mariadbAdmin(
      [
        `CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR(40) NULL, flag TINYINT(1) NOT NULL,
          amount DECIMAL(12,3) NOT NULL, born DATE NULL, seen DATETIME(6) NOT NULL, stamp TIMESTAMP(3) NULL,
          kind ENUM('a','b') NOT NULL, ratio DOUBLE NULL)`,
        ...ROWS.map(
          (r) =>
            `INSERT INTO t VALUES (${r.map((v) => (v === null ? 'NULL' : typeof v === 'number' ? v : `'${v}'`)).join(', ')}, 0.1)`,
        ),
      ],
      maria.name,
    );
    pgDb = await throwawayPostgres();
    const c = pgDb.config;
    pgAdmin = new Client({ host: c.host, port: c.port, user: c.user, password: c.password, database: c.database });
    await pgAdmin.connect();
    // Another session time zone on purpose: timestamptz values are stored as instants.
    await pgAdmin.query(`SET TIME ZONE 'America/New_York'`);
    await pgAdmin.query(`CREATE TABLE t (id bigint PRIMARY KEY, name varchar(40), flag boolean NOT NULL,
      amount numeric(12,3) NOT NULL, born date, seen timestamp(6) NOT NULL, stamp timestamptz(3),
      kind text NOT NULL, ratio double precision)`);
    for (const r of ROWS)
      await pgAdmin.query(`INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, ($7 || '+00')::timestamptz, $8, 0.1)`, [
        r[0],
        r[1],
        r[2] === 1,
        r[3],
        r[4],
        r[5],
        r[6],
        r[7],
      ]);
    my = await open(maria.config);
    pg = await open(pgDb.config);
  });
  afterAll(async () => {
    await my?.close();
    await pg?.close();
    await pgAdmin?.end();
    await maria?.drop();
    await pgDb?.drop();
  });

  const columns = ['id', 'name', 'flag', 'amount', 'born', 'seen', 'stamp', 'kind'];
  const ranges = [
    { after: null, upTo: '2' },
    { after: '2', upTo: '4' },
    { after: '4', upTo: '99' },
    { after: '99', upTo: '1000' },
  ];

  it('gives the same whole-table checksum and bounds, and the same per-range checksums', async () => {
    const [a, b] = await Promise.all([
      rangeChecksums(my, { ...request, columns }),
      rangeChecksums(pg, { ...request, columns }),
    ]);
    expect(a.bounds).toEqual(b.bounds);
    expect(a.bounds).toMatchObject({ count: ROWS.length, min: '1', max: '100' });
    const [ra, rb] = await Promise.all([
      rangeChecksums(my, { ...request, columns, ranges }),
      rangeChecksums(pg, { ...request, columns, ranges }),
    ]);
    expect(ra.ranges).toEqual(rb.ranges);
    expect(ra.ranges!.map((r) => r.count)).toEqual([2, 2, 1, 1]);
  });

  it('tells NULL from empty text, and a change shows in its range only', async () => {
    await pgAdmin.query(`UPDATE t SET name = NULL WHERE id = 3`);
    const [ra, rb] = await Promise.all([
      rangeChecksums(my, { ...request, columns, ranges }),
      rangeChecksums(pg, { ...request, columns, ranges }),
    ]);
    expect(ra.ranges!.map((r, i) => r.sum === rb.ranges![i]!.sum)).toEqual([true, false, true, true]);
    await pgAdmin.query(`UPDATE t SET name = '' WHERE id = 3`);
  });

  it('reads the rows of ranges alike, and they hash alike in JS', async () => {
    const read = async (conn: DataConnection) => {
      const chunks: Buffer[] = [];
      let schema: ColumnSpec[] = [];
      await extractRanges(
        conn,
        { ...request, columns, ranges: [ranges[1]!, ranges[3]!], chunkRows: 2 },
        {
          put: async (_i, bytes) => void chunks.push(bytes),
          commit: async (m) => void (schema = m.schema.columns),
        },
        () => undefined,
      );
      const rows = (await Promise.all(chunks.map((c) => decodeChunk(c)))).flat();
      return rows.map((r) => [keyText(schema, 1, r), rowHash(schema, r)]);
    };
    const [a, b] = await Promise.all([read(my), read(pg)]);
    expect(a.map(([k]) => k)).toEqual(['["3"]', '["4"]', '["100"]']);
    expect(a).toEqual(b);
  });

  it('refuses a column the two dialects do not render alike, naming it', async () => {
    await expect(rangeChecksums(my, { ...request, columns: ['id', 'ratio'] })).rejects.toMatchObject({
      code: DataflowErrorCode.BAD_REQUEST,
      message: expect.stringMatching(/column ratio of .* leave it out of the sync step's columns/),
    });
  });

  it('deletes exactly the keys asked, and again without error', async () => {
    for (const conn of [my, pg]) {
      expect(await conn.deleteKeys(table, ['id'], [[4], [100], [999]])).toBe(2);
      expect(await conn.deleteKeys(table, ['id'], [[4], [100]])).toBe(0);
    }
    const [a, b] = await Promise.all([
      rangeChecksums(my, { ...request, columns }),
      rangeChecksums(pg, { ...request, columns }),
    ]);
    expect(a.bounds).toEqual(b.bounds);
    expect(a.bounds!.count).toBe(ROWS.length - 2);
  });
});
