import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import {
  createRepositories,
  openMetadataDb,
  runInTenantScope,
  runUnscoped,
  currentTenantScope,
  PGLITE_APP_ROLE,
  type MetadataDb,
} from '@vansales/metadata';
import { throwawayPostgresDatabase } from '@vansales/test-kit';

/** Every table with a tenant_id column, and whether row-level security is on, forced, and has a policy. */
async function rowSecurityOf(db: MetadataDb) {
  const { rows } = await sql<{ table: string; enabled: boolean; forced: boolean; policies: number }>`
    SELECT c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
           (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind = 'r'
      AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
    ORDER BY c.relname`.execute(db);
  return rows;
}

/**
 * The second wall, the same on both stores: PostgreSQL as a login that is not a superuser (the gateway
 * of ./vsc up), and PGlite, whose superuser connection acts as the lesser PGLITE_APP_ROLE.
 */
function secondWall(store: string, open: () => Promise<{ db: MetadataDb; drop?: () => Promise<void> }>) {
  describe(`row-level security on ${store}`, () => {
    let db: MetadataDb;
    let drop: (() => Promise<void>) | undefined;
    const alpha = 'rls-alpha';
    const beta = 'rls-beta';
    const [alphaConnector, betaConnector] = [randomUUID(), randomUUID()];

    beforeAll(async () => {
      ({ db, drop } = await open());
      const repos = createRepositories(db);
      await repos.upsertTenant({ id: alpha, name: 'Alpha' });
      await repos.upsertTenant({ id: beta, name: 'Beta' });
      await repos.createConnector({ id: alphaConnector, tenantId: alpha, name: 'hq' });
      await repos.createConnector({ id: betaConnector, tenantId: beta, name: 'hq' });
    });
    afterAll(async () => {
      await db?.destroy();
      await drop?.();
    });

    it('connects as a login that neither is a superuser nor bypasses row-level security', async () => {
      const { rows } = await sql<{ rolsuper: boolean; rolbypassrls: boolean }>`
      SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`.execute(db);
      expect(rows).toEqual([{ rolsuper: false, rolbypassrls: false }]);
    });

    it('forces a tenant policy on every table with a tenant_id column', async () => {
      const tables = await rowSecurityOf(db);
      expect(tables.length).toBeGreaterThan(20);
      expect(tables.filter((t) => !t.enabled || !t.forced || t.policies !== 1)).toEqual([]);
    });

    // The second wall: a query that forgot its tenant predicate.
    const allConnectors = () => db.selectFrom('connectors').select(['id', 'tenant_id']).orderBy('tenant_id').execute();

    it('outside any scope sees every tenant (platform jobs, operator routes, agent key lookups)', async () => {
      expect(currentTenantScope()).toBeUndefined();
      const rows = await allConnectors();
      expect(rows.map((r) => r.tenant_id)).toEqual(expect.arrayContaining([alpha, beta]));
    });

    it("inside tenant A's scope, a query without its predicate sees none of B's rows", async () => {
      const rows = await runInTenantScope(alpha, allConnectors);
      expect(rows).toEqual([{ id: alphaConnector, tenant_id: alpha }]);
      // In a transaction too (the setting is made before its BEGIN).
      const inTx = await runInTenantScope(alpha, () =>
        db.transaction().execute((tx) => tx.selectFrom('connectors').select('tenant_id').execute()),
      );
      expect(inTx).toEqual([{ tenant_id: alpha }]);
    });

    it("inside tenant A's scope, writing B's rows is refused or touches nothing", async () => {
      await expect(
        runInTenantScope(alpha, () =>
          db.insertInto('connectors').values({ id: randomUUID(), tenant_id: beta, name: 'smuggled' }).execute(),
        ),
      ).rejects.toThrow(/row-level security/);
      // Moving A's row to B is refused by WITH CHECK.
      await expect(
        runInTenantScope(alpha, () =>
          db.updateTable('connectors').set({ tenant_id: beta }).where('id', '=', alphaConnector).execute(),
        ),
      ).rejects.toThrow(/row-level security/);
      const deleted = await runInTenantScope(alpha, () =>
        db.deleteFrom('connectors').where('id', '=', betaConnector).executeTakeFirst(),
      );
      expect(Number(deleted.numDeletedRows)).toBe(0);
      const renamed = await runInTenantScope(alpha, () =>
        db.updateTable('connectors').set({ name: 'renamed' }).where('name', '=', 'hq').executeTakeFirst(),
      );
      expect(Number(renamed.numUpdatedRows)).toBe(1);
      const names = await db.selectFrom('connectors').select(['tenant_id', 'name']).orderBy('tenant_id').execute();
      expect(names).toEqual([
        { tenant_id: alpha, name: 'renamed' },
        { tenant_id: beta, name: 'hq' },
      ]);
    });

    it('gives each concurrent scope its own tenant, and an unscoped query after a scoped one sees all again', async () => {
      const runs = await Promise.all(
        Array.from({ length: 30 }, (_, i) => {
          const tenant = i % 3 === 0 ? alpha : i % 3 === 1 ? beta : undefined;
          const query = async () => (await allConnectors()).map((r) => r.tenant_id);
          return (tenant ? runInTenantScope(tenant, query) : query()).then((seen) => ({ tenant, seen }));
        }),
      );
      for (const { tenant, seen } of runs) expect(seen).toEqual(tenant ? [tenant] : [alpha, beta]);
      const escaped = await runInTenantScope(alpha, () => runUnscoped(allConnectors));
      expect(escaped.map((r) => r.tenant_id)).toEqual([alpha, beta]);
    });
  });
}

secondWall('PostgreSQL, as a login that is not a superuser (the gateway of ./vsc up)', async () => {
  const made = await throwawayPostgresDatabase('vsc_rls', { ownLogin: true });
  return { db: await openMetadataDb({ kind: 'postgres', url: made.url }), drop: made.drop };
});
secondWall('the embedded PGlite store (./vsc up without DATABASE_URL)', async () => ({
  db: await openMetadataDb({ kind: 'pglite', dir: mkdtempSync(join(tmpdir(), 'vsc-pglite-rls-')) }),
}));

describe('the embedded PGlite store as a lesser role', () => {
  let db: MetadataDb;
  beforeAll(async () => {
    db = await openMetadataDb({ kind: 'pglite', dir: mkdtempSync(join(tmpdir(), 'vsc-pglite-rls-')) });
  });
  afterAll(async () => db?.destroy());

  it('logs in as its superuser (migrations run as it) and then acts as a role that owns nothing and may not TRUNCATE or alter', async () => {
    const { rows } = await sql<{ session: string; current: string; owns: number }>`
      SELECT session_user AS session, current_user AS current,
             (SELECT count(*)::int FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = current_user) AS owns`.execute(
      db,
    );
    expect(rows).toEqual([{ session: 'postgres', current: PGLITE_APP_ROLE, owns: 0 }]);
    await expect(sql`TRUNCATE connectors`.execute(db)).rejects.toThrow(/permission denied/);
    await expect(sql`ALTER TABLE connectors DISABLE ROW LEVEL SECURITY`.execute(db)).rejects.toThrow(/must be owner/);
  });

  it('opens a folder a second time (the role exists already) and acts as the role again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsc-pglite-rls-reopen-'));
    await (await openMetadataDb({ kind: 'pglite', dir })).destroy();
    const again = await openMetadataDb({ kind: 'pglite', dir });
    try {
      const { rows } = await sql<{ current: string }>`SELECT current_user AS current`.execute(again);
      expect(rows).toEqual([{ current: PGLITE_APP_ROLE }]);
    } finally {
      await again.destroy();
    }
  });

  it('carries the scope to its one connection', async () => {
    const setting = () =>
      sql<{ t: string }>`SELECT current_setting('vsc.tenant_id', true) AS t`.execute(db).then((r) => r.rows[0]?.t);
    expect(await runInTenantScope('rls-alpha', setting)).toBe('rls-alpha');
    expect(await setting()).toBe('');
  });
});
