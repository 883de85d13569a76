import { sql } from 'kysely';
import { throwawayPostgresDatabase } from '@vansales/test-kit';
import { AuthErrorCode } from '@vansales/sdk-factory/auth';
import { credentialStoreFixture } from './support/store';

// The store's guarantees on real PostgreSQL (the unit tests use embedded PGlite): tenant isolation,
// a copied row that does not open, prefix listing of names holding LIKE's wildcards, and versions
// under concurrent writers.
describe('the metadata credential store on PostgreSQL', () => {
  let pg: Awaited<ReturnType<typeof throwawayPostgresDatabase>>;
  let f: Awaited<ReturnType<typeof credentialStoreFixture>>;
  beforeAll(async () => {
    pg = await throwawayPostgresDatabase('vsc_creds');
    f = await credentialStoreFixture(['acme', 'globex'], Date.now, { kind: 'postgres', url: pg.url });
  });
  afterAll(async () => {
    await f?.db.destroy();
    await pg?.drop();
  });

  it('keeps tenants apart and refuses a row copied across them', async () => {
    await f.store.put('acme', 'crm.key', { kind: 'apiKey', value: 'acme-secret-value' });
    expect(await f.store.get('globex', 'crm.key')).toBeUndefined();
    await sql`INSERT INTO credentials (tenant_id, name, kind, key_id, wrapped_key, sealed)
              SELECT 'globex', name, kind, key_id, wrapped_key, sealed FROM credentials
              WHERE tenant_id = 'acme' AND name = 'crm.key'`.execute(f.db);
    await expect(f.store.get('globex', 'crm.key')).rejects.toMatchObject({ code: AuthErrorCode.undecryptable });
    expect(await f.store.get('acme', 'crm.key')).toEqual({ kind: 'apiKey', value: 'acme-secret-value' });
  });

  it('lists by prefix literally and numbers concurrent writes one by one', async () => {
    await f.store.put('acme', 'a_b.x', { kind: 'bearer', token: 't' });
    await f.store.put('acme', 'aXb.y', { kind: 'bearer', token: 't' });
    expect((await f.store.list('acme', 'a_b')).map((c) => c.name)).toEqual(['a_b.x']);
    const versions = await Promise.all(
      Array.from({ length: 8 }, (_, i) => f.store.put('acme', 'busy', { kind: 'bearer', token: `t${i}` })),
    );
    expect([...versions].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
