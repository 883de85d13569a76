import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createRepositories,
  REFUSALS_KEPT,
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
    await repos.insertAgentKey({
      connectorId: id,
      tenantId: 'gamma',
      lookup: 'LOOKUP123456',
      hash,
      enrolUntil: new Date(Date.now() + 60_000),
    });
    const found = await repos.findAgentKey('LOOKUP123456');
    expect(found).toMatchObject({ connectorId: id, tenantId: 'gamma', revokedAt: null });
    expect(found?.hash.equals(hash)).toBe(true);
    expect(await repos.revokeAgentKeys('gamma', id)).toBe(1);
    expect((await repos.findAgentKey('LOOKUP123456'))?.revokedAt).toBeInstanceOf(Date);
  });

  it('enrols one public key per key, within its window, and re-binds on request', async () => {
    const repos = createRepositories(db);
    await repos.upsertTenant({ id: 'kappa', name: 'Kappa' });
    const id = randomUUID();
    await repos.createConnector({ id, tenantId: 'kappa', name: 'site' });
    const key = (lookup: string, enrolUntil: Date) =>
      repos.insertAgentKey({ connectorId: id, tenantId: 'kappa', lookup, hash: randomBytes(32), enrolUntil });
    await key('ENROLOPEN001', new Date(Date.now() + 60_000));
    await key('ENROLSHUT001', new Date(Date.now() - 1));
    // Two enrolments race: exactly one key pair wins.
    const wins = await Promise.all(['pk-a', 'pk-b'].map((pk) => repos.enrolAgentKey('ENROLOPEN001', pk)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    const winner = (await repos.findAgentKey('ENROLOPEN001'))?.publicKey;
    expect(['pk-a', 'pk-b']).toContain(winner);
    expect(await repos.enrolAgentKey('ENROLSHUT001', 'pk-c')).toBe(false);
    expect((await repos.findAgentKey('ENROLSHUT001'))?.publicKey).toBeNull();
    expect(await repos.rebindAgentKeys('kappa', id, { publicKey: 'pk-new' })).toBe(2);
    expect((await repos.findAgentKey('ENROLOPEN001'))?.publicKey).toBe('pk-new');
  });

  it('hands out each challenge once, never after it expired, and keeps few per key', async () => {
    const repos = createRepositories(db);
    const challenge = (id: string, expiresAt: Date) =>
      repos.insertAgentChallenge(
        { id, keyLookup: 'CHALLENGE001', tenantId: 't', connectorId: 'c', nonce: `n-${id}`, expiresAt },
        3,
      );
    const later = new Date(Date.now() + 60_000);
    await challenge('once', later);
    expect(await repos.takeAgentChallenge('once')).toEqual({
      keyLookup: 'CHALLENGE001',
      tenantId: 't',
      connectorId: 'c',
      nonce: 'n-once',
    });
    expect(await repos.takeAgentChallenge('once')).toBeUndefined();
    await challenge('expired', new Date(Date.now() - 1));
    expect(await repos.takeAgentChallenge('expired')).toBeUndefined();
    for (const id of ['c1', 'c2', 'c3', 'c4', 'c5']) await challenge(id, later);
    const left = await db
      .selectFrom('agent_challenges')
      .select('id')
      .where('key_lookup', '=', 'CHALLENGE001')
      .execute();
    expect(left).toHaveLength(3);
  });

  it('keeps a bounded number of refusal rows per connector', async () => {
    const repos = createRepositories(db);
    for (let i = 0; i < REFUSALS_KEPT + 20; i++)
      await repos.recordConnectionRefusal({
        tenantId: 'lambda',
        connectorId: 'flooded',
        keyLookup: 'L',
        machineId: `m-${i}`,
        reason: 'test',
      });
    const rows = await repos.listConnectionRefusals('lambda', 'flooded');
    expect(rows).toHaveLength(REFUSALS_KEPT);
    expect(rows.at(-1)?.machineId).toBe(`m-${REFUSALS_KEPT + 19}`);
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
