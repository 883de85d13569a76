/**
 * How many batches of rows a read and a one-site transfer hold while their consumer is busy: the
 * bound that keeps the agent within its memory target (bench/README.md, data-transfer). Counted on
 * the real driver (mysql2's row events and socket pauses), never timed.
 */
import mysql from 'mysql2';
import { ALLOW_ALL, openDataConnection, transfer, type DataConnection } from '@vansales/dataflow';
import { throwawayPostgresDatabase } from '@vansales/test-kit';
import { mariadbAdmin, postgresConfig, throwawayMariadbDatabase } from './support/databases';

const ROWS = 20_000;
const BATCH = 1_000;

/**
 * Counts the rows mysql2 has turned into JavaScript values for statements reading `table`, and
 * whether the socket is paused now. The driver runs unchanged; only its methods are observed.
 */
function observeDriver(table: string) {
  // The methods live on the base class every connection (pooled or not) extends.
  const proto = Object.getPrototypeOf(
    (mysql as unknown as { Connection: { prototype: object } }).Connection.prototype,
  ) as Record<string, (...a: unknown[]) => unknown>;
  const original = { query: proto.query!, pause: proto.pause!, resume: proto.resume! };
  const seen = { rows: 0, paused: false, pauses: 0 };
  proto.query = function (this: unknown, ...args: unknown[]) {
    const query = original.query.apply(this, args) as { on(e: string, f: () => void): unknown };
    const sql = (args[0] as { sql?: string } | string | undefined) ?? '';
    // The reader's SELECT names the table with or without its database.
    if (
      new RegExp(`^SELECT .* FROM (\`[^\`]+\`\\.)?\`${table}\``).test(typeof sql === 'string' ? sql : (sql.sql ?? ''))
    )
      query.on('result', () => void seen.rows++);
    return query;
  };
  proto.pause = function (this: unknown) {
    seen.paused = true;
    seen.pauses++;
    return original.pause.apply(this);
  };
  proto.resume = function (this: unknown) {
    seen.paused = false;
    return original.resume.apply(this);
  };
  return { seen, restore: () => Object.assign(proto, original) };
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('read-ahead bounds (MariaDB source)', () => {
  let source: Awaited<ReturnType<typeof throwawayMariadbDatabase>>;

  beforeAll(async () => {
    source = await throwawayMariadbDatabase();
    // Rows of ~200 bytes, so one TCP read never holds a whole batch of them.
    await mariadbAdmin(
      [
        'CREATE TABLE t (id INT PRIMARY KEY, pad VARCHAR(250) NOT NULL)',
        `INSERT INTO t SELECT seq, CONCAT('row ', seq, ' ', REPEAT('x', 200)) FROM seq_1_to_${ROWS}`,
      ],
      source.name,
    );
  });
  afterAll(async () => {
    await source.drop();
  });

  it('reads one batch ahead of its consumer, then waits', async () => {
    const driver = observeDriver('t');
    const conn = await openDataConnection(source.config);
    const rows = conn.readRows({ kind: 'table', table: { name: 't' }, orderBy: ['id'] }, { batchSize: BATCH });
    const batches = rows[Symbol.asyncIterator]();
    try {
      const first = await batches.next();
      expect(first.value).toHaveLength(BATCH);
      // The consumer holds its batch and asks for nothing more: the reader fills what it may ahead
      // and pauses the socket; it stays paused until the next batch is asked for.
      await until('the reader to pause', () => driver.seen.paused);
      // Before: two batches queued ahead of the one handed over (3,000 rows).
      expect(driver.seen.rows).toBe(2 * BATCH);
      const second = await batches.next();
      expect((second.value as unknown[][])[0]![0]).toBe(BATCH + 1);
    } finally {
      // Stopping the read releases its connection (a paused one would keep the pool from closing).
      await batches.return?.(undefined);
      driver.restore();
      await conn.close();
    }
  });

  it('transfers a table holding the batch it writes and the one its reader has ahead', async () => {
    const destination = await throwawayPostgresDatabase('vsc_t_readahead');
    const driver = observeDriver('t');
    // What the transfer asked of its source when each write began, and the driver's count then.
    const atWrites: { pulls: number; rowsRead: number }[] = [];
    let pulls = 0;
    const observed = (conn: DataConnection, role: 'src' | 'dst'): DataConnection =>
      new Proxy(conn, {
        get(target, prop, receiver) {
          if (role === 'src' && prop === 'readRows')
            return (...args: Parameters<DataConnection['readRows']>) => ({
              [Symbol.asyncIterator]() {
                const it = target.readRows(...args)[Symbol.asyncIterator]();
                return {
                  next: () => (pulls++, it.next()),
                  return: (v?: unknown) => it.return?.(v) ?? Promise.resolve({ done: true as const, value: v }),
                };
              },
            });
          if (role === 'dst' && prop === 'writeRows')
            return async (...args: Parameters<DataConnection['writeRows']>) => {
              atWrites.push({ pulls, rowsRead: driver.seen.rows });
              // Let the reader run as far ahead as it will while this write is in progress.
              await until('the reader to pause', () => driver.seen.paused || driver.seen.rows === ROWS);
              atWrites[atWrites.length - 1]!.rowsRead = driver.seen.rows;
              return target.writeRows(...args);
            };
          const value = Reflect.get(target, prop, receiver) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    try {
      const result = await transfer(
        async (database) =>
          database === 'src'
            ? observed(await openDataConnection(source.config), 'src')
            : observed(await openDataConnection(postgresConfig(destination.name)), 'dst'),
        {
          source: { database: 'src', table: { name: 't' } },
          destination: { database: 'dst', table: { name: 't' } },
          mode: 'append',
          batchRows: BATCH,
          createIfMissing: true,
          policy: ALLOW_ALL,
        },
        () => undefined,
      );
      expect(result.rowCount).toBe(ROWS);
      // Each write began with only its own batch asked for (before: the next one too, on top of
      // what the reader queues by itself), and the reader then held at most one more batch.
      expect(atWrites.map((w, i) => w.pulls - i)).toEqual(atWrites.map(() => 1));
      for (const [i, w] of atWrites.entries()) expect(w.rowsRead).toBeLessThanOrEqual((i + 2) * BATCH);
    } finally {
      driver.restore();
      await destination.drop();
    }
  });
});
