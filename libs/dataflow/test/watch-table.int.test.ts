import { Client } from 'pg';
import {
  ALLOW_ALL,
  DataflowErrorCode,
  decodeChunk,
  watchTable,
  type DataConnection,
  type DataPolicy,
  type ObjectSink,
  type WatchTableRequest,
} from '@vansales/dataflow';
import { mariadbAdmin, open, throwawayMariadbDatabase, throwawayPostgres } from './support/databases';

/*
 * watchTable, the site-event trigger's read, on real PostgreSQL and MariaDB: bounded batches past a
 * (cursor, key) position, rows sharing a cursor value split across batches without loss or repeat,
 * a protected cursor refused by its rule, and (PostgreSQL) a NOTIFY ending the wait early.
 */

function memorySink(): ObjectSink & { chunks: Buffer[]; committed: boolean } {
  const sink: ObjectSink & { chunks: Buffer[]; committed: boolean } = {
    chunks: [],
    committed: false,
    put: async (index, bytes) => void (sink.chunks[index] = bytes),
    commit: async () => void (sink.committed = true),
  };
  return sink;
}

const masking = (column: string): DataPolicy => ({
  ...ALLOW_ALL,
  source: 'the test policy',
  columnRule: (database, _table, c) => (c === column ? { database, table: 'ev', column, action: 'mask' } : undefined),
  tableRules: (database) => [{ database, table: 'ev', column, action: 'mask' }],
  hasColumnRules: () => true,
});

/** One watch of table `ev` by (at, id), without waiting, into a sink of its own. */
async function watchEv(conn: DataConnection, request: Partial<WatchTableRequest>) {
  const sink = memorySink();
  const out = await watchTable(
    conn,
    {
      database: 'db',
      table: { name: 'ev' },
      cursorColumn: 'at',
      keyColumns: ['id'],
      batchRows: 10,
      waitMs: 0,
      policy: ALLOW_ALL,
      ...request,
    },
    sink,
    () => undefined,
  );
  return { out, sink };
}

/** Reads batches of `batchRows` from the start until one comes back empty; the ids in delivery order. */
async function drain(conn: DataConnection, batchRows: number) {
  const ids: number[] = [];
  const sizes: number[] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const { out, sink } = await watchEv(conn, { ...(after ? { after } : {}), batchRows });
    if (out.rowCount === 0) {
      expect(sink.committed).toBe(false);
      return { ids, sizes, after };
    }
    sizes.push(out.rowCount);
    for (const chunk of sink.chunks) for (const row of await decodeChunk(chunk)) ids.push(Number(row[0]));
    after = out.last;
  }
}

describe.each([
  ['postgres', 'TIMESTAMPTZ'],
  ['mariadb', 'DATETIME(3)'],
] as const)('watchTable on %s', (dialect, timestampType) => {
  let db: { config: Parameters<typeof open>[0]; drop: () => Promise<void> };
  let conn: DataConnection;
  const sql = async (text: string) => {
    if (dialect === 'mariadb') return void (await mariadbAdmin(text, (db.config as { database: string }).database));
    const c = new Client({ ...db.config });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    db = dialect === 'postgres' ? await throwawayPostgres() : await throwawayMariadbDatabase();
    conn = await open(db.config);
    await sql(`CREATE TABLE ev (id INT PRIMARY KEY, at ${timestampType} NOT NULL, kind VARCHAR(20))`);
    // 25 rows, five to a timestamp, inserted out of id order: ties straddle every batch of 4.
    const values = Array.from({ length: 25 }, (_, i) => 25 - i).map(
      (id) => `(${id}, '2026-01-01 00:00:0${Math.floor((id - 1) / 5)}', 'k${id}')`,
    );
    await sql(`INSERT INTO ev (id, at, kind) VALUES ${values.join(', ')}`);
  });
  afterAll(async () => {
    await conn?.close();
    await db?.drop();
  });

  it('delivers every row once, in (cursor, key) order, in batches of at most batchRows', async () => {
    const { ids, sizes } = await drain(conn, 4);
    expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(sizes).toEqual([4, 4, 4, 4, 4, 4, 1]);
  });

  it('anchors at the last row without reading a batch: the position a full drain ends at', async () => {
    const anchored = await watchEv(conn, { anchor: true });
    const { out, sink } = anchored;
    expect({ rows: out.rowCount, chunks: sink.chunks.length, committed: sink.committed }).toEqual({
      rows: 0,
      chunks: 0,
      committed: false,
    });
    // The same values readRows gives (the next watch compares them as its `after`).
    expect(out.last).toEqual((await drain(conn, 100)).after);
    await sql(`INSERT INTO ev (id, at, kind) VALUES (26, '2026-01-01 00:00:09', 'k26')`);
    try {
      const next = await watchEv(conn, { after: out.last! });
      expect(next.out.rowCount).toBe(1);
      expect(Number((await decodeChunk(next.sink.chunks[0]!))[0]![0])).toBe(26);
    } finally {
      await sql(`DELETE FROM ev WHERE id = 26`);
    }
  });

  it('refuses a cursor column the policy protects, naming the rule, before reading', async () => {
    const sink = memorySink();
    await expect(
      watchTable(
        conn,
        {
          database: 'db',
          table: { name: 'ev' },
          cursorColumn: 'kind',
          keyColumns: ['id'],
          batchRows: 10,
          waitMs: 0,
          policy: masking('kind'),
        },
        sink,
        () => undefined,
      ),
    ).rejects.toMatchObject({
      code: DataflowErrorCode.POLICY_REFUSED,
      message: expect.stringMatching(
        /the test policy.*protects column kind.*as its cursor.*choose another cursorColumn/,
      ),
    });
    expect(sink.committed).toBe(false);
  });

  if (dialect === 'mariadb')
    it('refuses a notifyChannel: LISTEN is PostgreSQL only', async () => {
      await expect(watchEv(conn, { notifyChannel: 'ev_new' })).rejects.toMatchObject({
        code: DataflowErrorCode.BAD_REQUEST,
        message: expect.stringContaining('PostgreSQL'),
      });
    });

  if (dialect === 'postgres')
    it('ends a long wait at a NOTIFY and returns the rows committed with it', async () => {
      const { after } = await drain(conn, 100);
      let waiting!: () => void;
      const waits = new Promise<void>((resolve) => (waiting = resolve));
      const watching = watchTable(
        conn,
        {
          database: 'db',
          table: { name: 'ev' },
          cursorColumn: 'at',
          keyColumns: ['id'],
          after,
          batchRows: 100,
          waitMs: 3_600_000,
          notifyChannel: 'ev_new',
          policy: ALLOW_ALL,
          onWaiting: waiting,
        },
        memorySink(),
        () => undefined,
      );
      // Once the watch found nothing and waits (listening), a row and a NOTIFY arrive in one transaction.
      await waits;
      const c = new Client({ ...db.config });
      await c.connect();
      try {
        await c.query(`BEGIN`);
        await c.query(`INSERT INTO ev VALUES (26, '2026-01-01 00:00:09', 'late')`);
        await c.query(`NOTIFY ev_new`);
        await c.query(`COMMIT`);
      } finally {
        await c.end();
      }
      await expect(watching).resolves.toMatchObject({ rowCount: 1, woke: 'notify', last: [expect.any(String), 26] });
    });
});
