import { randomBytes } from 'node:crypto';
import { startPlatform, type Platform } from './support/harness';
import { rawQuery } from './support/raw-sql';

/**
 * Row-level security (metadata migration 0024) as the gateway really runs it: its login owns the
 * store but is not a superuser, and a tenant route's queries run in that tenant's scope. To see the
 * scope from outside, the test swaps the connectors' policy for its inverse (a scoped query sees every
 * tenant BUT its scope's): the tenant route then lists nothing, and an unscoped query still sees all.
 */
describe('row-level security behind the gateway', () => {
  let platform: Platform;
  const a = `rls-${randomBytes(3).toString('hex')}`;
  const b = `rls-${randomBytes(3).toString('hex')}`;
  const listOf = async (tenant: string) => {
    const res = await platform.api<{ tenantId: string; name: string }[]>('GET', `/v1/tenants/${tenant}/connectors`);
    expect(res.status).toBe(200);
    return res.body.map((c) => `${c.tenantId}/${c.name}`);
  };
  const scope = "current_setting('vsc.tenant_id', true)";
  const setPolicy = (using: string) =>
    rawQuery(platform.gateway.db, `ALTER POLICY tenant_isolation ON connectors USING ${using} WITH CHECK ${using}`);

  beforeAll(async () => {
    platform = await startPlatform({ workflowWorker: false });
    for (const id of [a, b]) {
      expect((await platform.api('POST', '/v1/tenants', { id, name: id })).status).toBe(201);
      expect((await platform.api('POST', `/v1/tenants/${id}/connectors`, { name: `site-of-${id}` })).status).toBe(201);
    }
  }, 120_000);
  afterAll(async () => platform?.close());

  it('logs in as a role that neither is a superuser nor bypasses row-level security', async () => {
    const rows = await rawQuery(
      platform.gateway.db,
      'SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user',
    );
    expect(rows).toEqual([{ rolsuper: false, rolbypassrls: false }]);
  });

  it("runs a tenant route's queries in that tenant's scope", async () => {
    expect(await listOf(a)).toEqual([`${a}/site-of-${a}`]);
    await setPolicy(`(${scope} IS NULL OR ${scope} = '' OR tenant_id <> ${scope})`);
    try {
      // The route's own predicate asks for A; the (inverted) policy of A's scope hides A: nothing.
      expect(await listOf(a)).toEqual([]);
      expect(await listOf(b)).toEqual([]);
      // Unscoped (the platform's own work) still sees both tenants' rows.
      const all = await platform.gateway.db.selectFrom('connectors').select('tenant_id').execute();
      expect(all.map((r) => r.tenant_id)).toEqual(expect.arrayContaining([a, b]));
    } finally {
      await setPolicy(`(${scope} IS NULL OR ${scope} = '' OR tenant_id = ${scope})`);
    }
    expect(await listOf(a)).toEqual([`${a}/site-of-${a}`]);
  });
});
