import { DataflowErrorCode, type DataConnection } from '@vansales/dataflow';
import { mariadbConfig, open, throwawayPostgres } from './support/databases';

/*
 * DataConnection.query is what the agent's sql.query runs after its SQL guard. These check the
 * layers beneath the guard on their own: the driver sends one statement, the transaction is READ
 * ONLY, catalog inspection too, and at most maxRows rows come back with `truncated` set.
 */
describe.each(['postgres', 'mysql'] as const)('%s: the bounded read-only query', (dialect) => {
  let conn: DataConnection;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    if (dialect === 'postgres') {
      const db = await throwawayPostgres();
      drop = db.drop;
      conn = await open(db.config);
    } else {
      conn = await open(mariadbConfig('sakila'));
    }
  });
  afterAll(async () => {
    await conn?.close();
    await drop?.();
  });

  const many =
    dialect === 'postgres'
      ? 'SELECT g AS n FROM generate_series(1, 5000) g ORDER BY g'
      : 'SELECT rental_id AS n FROM rental ORDER BY rental_id';

  it('returns at most maxRows rows and says it truncated', async () => {
    const out = await conn.query(many, [], { maxRows: 10 });
    expect(out.rowCount).toBe(10);
    expect(out.truncated).toBe(true);
    expect(out.rows[9]).toEqual([10]);
    expect(out.columns.map((c) => c.name)).toEqual(['n']);
    // The connection is usable afterwards.
    expect((await conn.query('SELECT 1 AS one', [], { maxRows: 10 })).rows).toEqual([[1]]);
  });

  it('never runs a second statement in the text', async () => {
    await expect(conn.query('SELECT 1; SELECT 2', [], { maxRows: 10 })).rejects.toMatchObject({
      code: DataflowErrorCode.READ_FAILED,
    });
  });

  it('runs in a READ ONLY transaction, catalog inspection included', async () => {
    const write =
      dialect === 'postgres'
        ? 'CREATE TABLE vsc_should_not_exist (id int)'
        : 'CREATE TEMPORARY TABLE vsc_should_not_exist (id int)';
    const insert = dialect === 'postgres' ? write : 'INSERT INTO rental (rental_id) VALUES (-1)';
    await expect(conn.query(insert, [], { maxRows: 10 })).rejects.toMatchObject({
      code: DataflowErrorCode.READ_FAILED,
    });
    await expect(conn.inspect((q) => q(write))).rejects.toMatchObject({ code: DataflowErrorCode.READ_FAILED });
    expect(await conn.tableExists({ name: 'vsc_should_not_exist' })).toBe(false);
  });

  it('cancels the statement on the server when aborted while it runs, and before it starts', async () => {
    const slow =
      dialect === 'postgres'
        ? 'SELECT count(*) FROM generate_series(1, 1000000000)'
        : 'SELECT COUNT(*) FROM rental a, rental b, rental c';
    const watch =
      dialect === 'postgres'
        ? "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query = $1"
        : 'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO = ?';
    const runningOnServer = async () => Number((await conn.query(watch, [slow], { maxRows: 1 })).rows[0]![0]) > 0;
    const abort = new AbortController();
    const running = conn.query(slow, [], { maxRows: 10, signal: abort.signal });
    running.catch(() => undefined);
    while (!(await runningOnServer())) await new Promise((r) => setImmediate(r));
    abort.abort();
    await expect(running).rejects.toMatchObject({ code: DataflowErrorCode.CANCELLED });
    // Stopped on the server, not only abandoned by the client.
    while (await runningOnServer()) await new Promise((r) => setImmediate(r));
    await expect(conn.query(slow, [], { maxRows: 10, signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: DataflowErrorCode.CANCELLED,
    });
    expect((await conn.query('SELECT 2 AS two', [], { maxRows: 10 })).rows).toEqual([[2]]);
  });
});
