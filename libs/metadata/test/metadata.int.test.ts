import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createRepositories,
  migrateToLatest,
  openMetadataDb,
  type MetadataDb,
  type MetadataTarget,
} from '@vansales/metadata';
import { throwawayPostgresDatabase } from '@vansales/test-kit';

async function freshPostgres(): Promise<{ target: MetadataTarget; drop: () => Promise<void> }> {
  const db = await throwawayPostgresDatabase('vsc_m');
  return { target: { kind: 'postgres', url: db.url }, drop: db.drop };
}

describe.each([
  ['PostgreSQL', freshPostgres],
  [
    'embedded PGlite',
    async () => ({
      target: { kind: 'pglite', dir: mkdtempSync(join(tmpdir(), 'vsc-pglite-')) } as MetadataTarget,
      drop: async () => undefined,
    }),
  ],
])('metadata store on %s', (_name, make) => {
  let db: MetadataDb;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const made = await make();
    drop = made.drop;
    db = await openMetadataDb(made.target);
  });
  afterAll(async () => {
    await db?.destroy();
    await drop?.();
  });

  it('migrates to the latest schema, and migrating again changes nothing', async () => {
    const tables = await db.introspection.getTables();
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['tenants', 'connectors', 'agent_keys']));
    expect(await migrateToLatest(db)).toEqual([]);
  });

  it('refuses tenant ids that are not slugs', async () => {
    const repos = createRepositories(db);
    await expect(repos.upsertTenant({ id: 'Bad Tenant', name: 'x' })).rejects.toThrow(/check constraint/);
  });

  it('scopes every connector read to its tenant', async () => {
    const repos = createRepositories(db);
    await repos.upsertTenant({ id: 'alpha', name: 'Alpha' });
    await repos.upsertTenant({ id: 'beta', name: 'Beta' });
    const id = randomUUID();
    await repos.createConnector({ id, tenantId: 'alpha', name: 'hq' });
    expect(await repos.getConnector('alpha', id)).toEqual({ id, tenantId: 'alpha', name: 'hq' });
    expect(await repos.getConnector('beta', id)).toBeUndefined();
    expect(await repos.listConnectors('beta')).toEqual([]);
    expect(await repos.revokeAgentKeys('beta', id)).toBe(0);
  });

  it('stores key hashes, finds them by lookup id, and revokes them', async () => {
    const repos = createRepositories(db);
    await repos.upsertTenant({ id: 'gamma', name: 'Gamma' });
    const id = randomUUID();
    await repos.createConnector({ id, tenantId: 'gamma', name: 'site' });
    const hash = randomBytes(32);
    await repos.insertAgentKey({ connectorId: id, tenantId: 'gamma', lookup: 'LOOKUP123456', hash });
    const found = await repos.findAgentKey('LOOKUP123456');
    expect(found).toMatchObject({ connectorId: id, tenantId: 'gamma', revokedAt: null });
    expect(found?.hash.equals(hash)).toBe(true);
    expect(await repos.revokeAgentKeys('gamma', id)).toBe(1);
    expect((await repos.findAgentKey('LOOKUP123456'))?.revokedAt).toBeInstanceOf(Date);
  });

  it('runs transactions one at a time on a single connection without interleaving', async () => {
    const repos = createRepositories(db);
    await repos.upsertTenant({ id: 'delta', name: 'Delta' });
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        db.transaction().execute(async (trx) => {
          await trx
            .insertInto('connectors')
            .values({ id: randomUUID(), tenant_id: 'delta', name: `c${i}` })
            .execute();
        }),
      ),
    );
    expect(await repos.listConnectors('delta')).toHaveLength(10);
  });
});
