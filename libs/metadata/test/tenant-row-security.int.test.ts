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

describe('row-level security on PostgreSQL, as a login that is not a superuser (the gateway of ./vsc up)', () => {
  let db: MetadataDb;
  let drop: () => Promise<void>;
  const alpha = 'rls-alpha';
  const beta = 'rls-beta';
  const [alphaConnector, betaConnector] = [randomUUID(), randomUUID()];

  beforeAll(async () => {
    const made = await throwawayPostgresDatabase('vsc_rls', { ownLogin: true });
    drop = made.drop;
    db = await openMetadataDb({ kind: 'postgres', url: made.url });
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

describe('row-level security on the embedded PGlite store', () => {
  let db: MetadataDb;
  beforeAll(async () => {
    db = await openMetadataDb({ kind: 'pglite', dir: mkdtempSync(join(tmpdir(), 'vsc-pglite-rls-')) });
  });
  afterAll(async () => db?.destroy());

  it('migrates: the same policies exist (its one login is a superuser, so they are not enforced there)', async () => {
    const tables = await rowSecurityOf(db);
    expect(tables.length).toBeGreaterThan(20);
    expect(tables.filter((t) => !t.enabled || !t.forced || t.policies !== 1)).toEqual([]);
    const { rows } = await sql<{
      rolsuper: boolean;
    }>`SELECT rolsuper FROM pg_roles WHERE rolname = current_user`.execute(db);
    expect(rows).toEqual([{ rolsuper: true }]);
  });

  it('carries the scope to its one connection', async () => {
    const setting = () =>
      sql<{ t: string }>`SELECT current_setting('vsc.tenant_id', true) AS t`.execute(db).then((r) => r.rows[0]?.t);
    expect(await runInTenantScope('rls-alpha', setting)).toBe('rls-alpha');
    expect(await setting()).toBe('');
  });
});
