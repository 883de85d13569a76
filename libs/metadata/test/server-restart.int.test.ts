import { sql } from 'kysely';
import { Client } from 'pg';
import { testServices, throwawayPostgresDatabase } from '@vansales/test-kit';
import { METADATA_APPLICATION_NAME, openMetadataDb, type MetadataDb } from '@vansales/metadata';

/**
 * A PostgreSQL restart drops every connection, idle ones included. The pool reports an idle
 * client's loss as an 'error' event; unheard, Node throws it and the gateway that owned the pool
 * dies (a crash soak once hung on exactly that). The store must shrug it off and serve again.
 */
describe('metadata store when PostgreSQL drops its connections', () => {
  let store: Awaited<ReturnType<typeof throwawayPostgresDatabase>>;
  let db: MetadataDb;

  beforeAll(async () => {
    store = await throwawayPostgresDatabase('vsc_meta_restart');
    db = await openMetadataDb({ kind: 'postgres', url: store.url });
  });
  afterAll(async () => {
    await db?.destroy();
    await store?.drop();
  });

  it('keeps the process alive with idle connections killed, and the next query reconnects', async () => {
    // Several connections at once, so the pool holds idle clients when the server drops them.
    await Promise.all(Array.from({ length: 4 }, () => sql`SELECT pg_sleep(0.05)`.execute(db)));
    const admin = new Client({ connectionString: testServices().postgresUrl() });
    await admin.connect();
    let killed: number;
    try {
      const res = await admin.query<{ n: string }>(
        `SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`,
        [store.name, METADATA_APPLICATION_NAME],
      );
      killed = Number(res.rows[0]!.n);
    } finally {
      await admin.end();
    }
    expect(killed).toBeGreaterThanOrEqual(2);
    // Let the dropped sockets' errors reach the pool (an unheard one would fail this test file).
    await new Promise((r) => setTimeout(r, 500));
    const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(db);
    expect(rows).toEqual([{ one: 1 }]);
  });
});
