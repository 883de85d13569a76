import { type DataConnection, DataflowErrorCode, mapColumns, tableChecksum } from '@vansales/dataflow';
import {
  mariadbAdmin,
  mariadbConfig,
  open,
  readAll,
  throwawayMariadbDatabase,
  throwawayPostgres,
} from './support/databases';

/**
 * An append transfer that stops mid-way: its last recorded keyset position is behind what was
 * actually written (the write of the next batch committed, the heartbeat carrying its cursor
 * was lost). deleteAfter(last recorded key) then a read from that key gives an exact copy.
 */
describe('deleteAfter + keyset resume', () => {
  let pgdb: Awaited<ReturnType<typeof throwawayPostgres>>;
  let my: Awaited<ReturnType<typeof throwawayMariadbDatabase>>;
  let sakila: DataConnection;
  let pg: DataConnection;
  let mysql: DataConnection;

  beforeAll(async () => {
    pgdb = await throwawayPostgres();
    my = await throwawayMariadbDatabase();
    sakila = await open(mariadbConfig('sakila'));
    pg = await open(pgdb.config);
    mysql = await open(my.config);
  });
  afterAll(async () => {
    await sakila?.close();
    await pg?.close();
    await mysql?.close();
    await pgdb?.drop();
    await my?.drop();
  });

  async function interruptedCopy(target: DataConnection, name: string, key: string[]) {
    const described = (await sakila.describeTable({ name }))!;
    const columns = mapColumns(described.columns, target.dialect, name, { keyColumns: key });
    await target.createTable({ name }, described.columns, key);
    const keyIndex = key.map((k) => described.columns.findIndex((c) => c.name === k));
    let recorded: unknown[] | undefined;
    let batches = 0;
    // First run: 5 batches recorded, 2 more written whose position was never recorded.
    for await (const batch of sakila.readRows({ kind: 'table', table: { name }, orderBy: key }, { batchSize: 700 })) {
      await target.writeRows({ name }, columns, batch, { mode: 'insert', keyColumns: key });
      batches++;
      if (batches <= 5) recorded = keyIndex.map((i) => batch[batch.length - 1]![i]);
      if (batches === 7) break;
    }
    expect(await target.countRows({ name })).toBe(7 * 700);
    const deleted = await target.deleteAfter({ name }, key, recorded!);
    expect(deleted).toBe(2 * 700);
    // Second run resumes after the recorded key.
    for await (const batch of sakila.readRows(
      { kind: 'table', table: { name }, orderBy: key, after: recorded! },
      { batchSize: 700 },
    )) {
      await target.writeRows({ name }, columns, batch, { mode: 'insert', keyColumns: key });
    }
    expect(await target.countRows({ name })).toBe(await sakila.countRows({ name }));
    expect(await tableChecksum(target, { name }, described.columns, key)).toEqual(
      await tableChecksum(sakila, { name }, described.columns, key),
    );
  }

  it('resumes a single-key table into PostgreSQL', () => interruptedCopy(pg, 'rental', ['rental_id']));
  it('resumes a composite-key table into PostgreSQL', () => interruptedCopy(pg, 'film_actor', ['actor_id', 'film_id']));
  it('resumes a composite-key table into MariaDB', () => interruptedCopy(mysql, 'film_actor', ['actor_id', 'film_id']));

  it('deleteAfter with no key empties the table', async () => {
    await pg.createTable(
      { name: 'few' },
      [{ name: 'id', type: { kind: 'integer', bits: 32 }, nullable: false, nativeType: 'int' }],
      ['id'],
    );
    const cols = (await pg.describeTable({ name: 'few' }))!.columns;
    await pg.writeRows({ name: 'few' }, cols, [[1], [2], [3]], { mode: 'insert', keyColumns: [] });
    expect(await pg.deleteAfter({ name: 'few' }, ['id'], [])).toBe(3);
  });

  it('reads incrementally by a cursor column, with an upper bound, in cursor then key order', async () => {
    await mariadbAdmin(
      [
        'CREATE TABLE events (id INT PRIMARY KEY, updated_at DATETIME(3) NOT NULL, v VARCHAR(10))',
        `INSERT INTO events VALUES (1, '2024-01-01 00:00:00', 'a'), (2, '2024-01-02 00:00:00', 'b'), (3, '2024-01-02 00:00:00', 'c'),
           (4, '2024-01-03 00:00:00.5', 'd'), (5, '2024-01-04 00:00:00', 'e'), (6, '2024-01-01 12:00:00', 'f')`,
      ],
      my.name,
    );
    const read = async (source: Parameters<DataConnection['readRows']>[0]) => {
      const out: unknown[][] = [];
      for await (const b of mysql.readRows(source, { batchSize: 2 })) out.push(...b);
      return out.map((r) => r[0]);
    };
    const table = { name: 'events' };
    expect(
      await read({
        kind: 'table',
        table,
        orderBy: ['id'],
        incremental: { column: 'updated_at', after: '2024-01-01 12:00:00', upTo: '2024-01-03 00:00:00.5' },
      }),
    ).toEqual([2, 3, 4]);
    // Resume inside a run of equal cursor values: after = [cursor, key].
    expect(
      await read({
        kind: 'table',
        table,
        orderBy: ['id'],
        incremental: { column: 'updated_at', after: '2024-01-01 12:00:00' },
        after: ['2024-01-02 00:00:00', 2],
      }),
    ).toEqual([3, 4, 5]);
    expect(await read({ kind: 'table', table, orderBy: ['id'], incremental: { column: 'updated_at' } })).toEqual([
      1, 6, 2, 3, 4, 5,
    ]);

    // The same in PostgreSQL, through a copy.
    await pg.createTable(table, (await mysql.describeTable(table))!.columns, ['id']);
    const rows = await readAll(mysql, table, ['id']);
    await pg.writeRows(table, (await pg.describeTable(table))!.columns, rows, { mode: 'insert', keyColumns: [] });
    const pgRead = async (source: Parameters<DataConnection['readRows']>[0]) => {
      const out: unknown[][] = [];
      for await (const b of pg.readRows(source, { batchSize: 2 })) out.push(...b);
      return out.map((r) => r[0]);
    };
    expect(
      await pgRead({
        kind: 'table',
        table,
        orderBy: ['id'],
        incremental: { column: 'updated_at', after: '2024-01-01 12:00:00', upTo: '2024-01-03 00:00:00.5' },
      }),
    ).toEqual([2, 3, 4]);
    expect(
      await pgRead({
        kind: 'table',
        table,
        orderBy: ['id'],
        incremental: { column: 'updated_at', after: '2024-01-01 12:00:00' },
        after: ['2024-01-02 00:00:00', 2],
      }),
    ).toEqual([3, 4, 5]);
  });

  it('refuses a keyset whose width does not match the order', async () => {
    const it = sakila.readRows(
      { kind: 'table', table: { name: 'film_actor' }, orderBy: ['actor_id', 'film_id'], after: [1] },
      { batchSize: 10 },
    );
    await expect(it[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: DataflowErrorCode.BAD_REQUEST });
  });

  it('stops early without leaking the connection, and honours an abort signal', async () => {
    for (let i = 0; i < 6; i++) {
      for await (const batch of sakila.readRows(
        { kind: 'table', table: { name: 'rental' }, orderBy: ['rental_id'] },
        { batchSize: 100 },
      )) {
        expect(batch).toHaveLength(100);
        break;
      }
      for await (const batch of pg.readRows(
        { kind: 'table', table: { name: 'rental' }, orderBy: ['rental_id'] },
        { batchSize: 100 },
      )) {
        expect(batch).toHaveLength(100);
        break;
      }
    }
    const controller = new AbortController();
    const read = async () => {
      let n = 0;
      for await (const batch of sakila.readRows(
        { kind: 'table', table: { name: 'rental' }, orderBy: ['rental_id'] },
        { batchSize: 100, signal: controller.signal },
      )) {
        n += batch.length;
        if (n === 300) controller.abort();
      }
    };
    await expect(read()).rejects.toMatchObject({ code: DataflowErrorCode.CANCELLED });
    expect(await sakila.countRows({ name: 'rental' })).toBeGreaterThan(16000);
  });
});
