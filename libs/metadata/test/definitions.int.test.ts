import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { throwawayPostgresDatabase } from '@vansales/test-kit';
import {
  createDefinitionRepository,
  createDefinitionStore,
  createRepositories,
  DefinitionRepositoryError,
  openMetadataDb,
  type DefinitionRepository,
  type MetadataDb,
  type MetadataTarget,
} from '@vansales/metadata';
import type { DefinitionDocumentInput } from '@vansales/definitions';
import { definitionHash } from '@vansales/definitions/hash';

const doc = (table = 'film', name = 'films to the warehouse'): DefinitionDocumentInput => ({
  format: 'vansales.definition/v1',
  name,
  steps: [
    { id: 'extract', kind: 'source', db: { endpoint: { kind: 'cloud-db', database: 'shop' }, table: { name: table } } },
    {
      id: 'load',
      kind: 'destination',
      db: { endpoint: { kind: 'cloud-db', database: 'warehouse' }, table: { name: table }, keyColumns: ['id'] },
    },
  ],
  edges: [{ from: 'extract', to: 'load' }],
});

type Store = { target: MetadataTarget; drop: () => Promise<void> };
async function pglite(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-definitions-'));
  return { target: { kind: 'pglite', dir }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}
/** Real PostgreSQL too: only there do concurrent savers really race for the next version. */
async function postgres(): Promise<Store> {
  const db = await throwawayPostgresDatabase('vsc_defs');
  return { target: { kind: 'postgres', url: db.url }, drop: db.drop };
}

describe.each([
  ['embedded PGlite', pglite],
  ['PostgreSQL', postgres],
])('definition store on %s', (_name, makeStore) => {
  let store: Store;
  let db: MetadataDb;
  let repo: DefinitionRepository;

  beforeAll(async () => {
    store = await makeStore();
    db = await openMetadataDb(store.target);
    repo = createDefinitionRepository(db);
    const repos = createRepositories(db);
    await repos.upsertTenant({ id: 'alpha', name: 'Alpha' });
    await repos.upsertTenant({ id: 'beta', name: 'Beta' });
  });
  afterAll(async () => {
    await db?.destroy();
    await store?.drop();
  });

  it('creates a definition with its first version, hashed over the parsed document', async () => {
    const { definition, version } = await repo.createDefinition({
      tenantId: 'alpha',
      id: 'films',
      document: doc(),
      createdBy: 'admin',
    });
    expect(definition).toMatchObject({
      id: 'films',
      name: 'films to the warehouse',
      status: 'active',
      latestVersion: 1,
    });
    expect(definition.publishedVersion).toBeUndefined();
    expect(version).toMatchObject({ version: 1, hash: definitionHash(doc()), createdBy: 'admin' });
    // Stored parsed: the defaults are there (manual trigger, createIfMissing false).
    expect(version.document.triggers).toEqual([{ kind: 'manual' }]);
    await expect(
      repo.createDefinition({ tenantId: 'alpha', id: 'films', document: doc(), createdBy: 'admin' }),
    ).rejects.toMatchObject({ code: 'exists' });
  });

  it('saves the same content twice as one version, and new content as the next', async () => {
    const reordered = JSON.parse(
      JSON.stringify({ edges: doc().edges, steps: doc().steps, name: doc().name, format: doc().format }),
    );
    const again = await repo.addVersion('alpha', 'films', reordered, 'admin');
    expect(again).toMatchObject({ created: false, version: { version: 1 } });
    // Spelling out a default is the same content too.
    const explicit = await repo.addVersion('alpha', 'films', { ...doc(), triggers: [{ kind: 'manual' }] }, 'admin');
    expect(explicit).toMatchObject({ created: false, version: { version: 1 } });
    const v2 = await repo.addVersion('alpha', 'films', doc('actor', 'actors to the warehouse'), 'someone');
    expect(v2).toMatchObject({ created: true, version: { version: 2, createdBy: 'someone' } });
    expect(v2.version.hash).not.toBe(definitionHash(doc()));
    expect((await repo.getDefinition('alpha', 'films'))?.name).toBe('actors to the warehouse');
    expect((await repo.listVersions('alpha', 'films')).map((v) => v.version)).toEqual([1, 2]);
    // Going back to the first content answers version 1, not a new one.
    expect(await repo.addVersion('alpha', 'films', doc(), 'admin')).toMatchObject({
      created: false,
      version: { version: 1 },
    });
  });

  it('keeps versions immutable: the database refuses an update', async () => {
    await expect(
      sql`update definition_versions set created_by = 'mallory' where tenant_id = 'alpha'`.execute(db),
    ).rejects.toThrow(/immutable/);
    expect((await repo.getVersion('alpha', 'films', 1))?.createdBy).toBe('admin');
  });

  it('publishes a version for the store, and archiving stops new runs from finding it', async () => {
    const definitionStore = createDefinitionStore(repo);
    expect(await definitionStore.published('alpha', 'films')).toBeUndefined();
    await expect(repo.publish('alpha', 'films', 9)).rejects.toMatchObject({ code: 'unknown-version' });
    const published = await repo.publish('alpha', 'films', 1);
    expect(published.publishedVersion).toBe(1);
    expect(await definitionStore.published('alpha', 'films')).toMatchObject({
      version: 1,
      hash: definitionHash(doc()),
    });
    expect((await definitionStore.version('alpha', 'films', 2))?.publishedAt).toBeUndefined();
    expect((await repo.listVersions('alpha', 'films')).map((v) => v.published)).toEqual([true, false]);

    await repo.createDefinition({ tenantId: 'alpha', id: 'old', document: doc(), createdBy: 'admin' });
    await repo.publish('alpha', 'old', 1);
    expect((await repo.archive('alpha', 'old')).status).toBe('archived');
    expect((await repo.archive('alpha', 'old')).status).toBe('archived');
    expect(await definitionStore.published('alpha', 'old')).toBeUndefined();
    // The pinned version stays readable: runs in flight continue.
    expect(await definitionStore.version('alpha', 'old', 1)).toBeDefined();
    await expect(repo.publish('alpha', 'old', 1)).rejects.toMatchObject({ code: 'archived' });
    await expect(repo.addVersion('alpha', 'old', doc('x'), 'admin')).rejects.toMatchObject({ code: 'archived' });
  });

  it('scopes every read and write to the tenant', async () => {
    const definitionStore = createDefinitionStore(repo);
    expect(await repo.getDefinition('beta', 'films')).toBeUndefined();
    expect(await repo.getVersion('beta', 'films', 1)).toBeUndefined();
    expect(await repo.listVersions('beta', 'films')).toEqual([]);
    expect(await repo.listDefinitions('beta')).toEqual([]);
    expect(await definitionStore.published('beta', 'films')).toBeUndefined();
    await expect(repo.publish('beta', 'films', 1)).rejects.toBeInstanceOf(DefinitionRepositoryError);
    await expect(repo.archive('beta', 'films')).rejects.toMatchObject({ code: 'unknown-definition' });
    await expect(repo.addVersion('beta', 'films', doc('y'), 'admin')).rejects.toMatchObject({
      code: 'unknown-definition',
    });
    // beta may use the same id for its own definition, with its own history.
    await repo.createDefinition({ tenantId: 'beta', id: 'films', document: doc('z'), createdBy: 'admin' });
    expect((await repo.getVersion('beta', 'films', 1))?.document.steps[0]).toMatchObject({
      db: { table: { name: 'z' } },
    });
    expect((await repo.getDefinition('alpha', 'films'))?.status).toBe('active');
    expect((await repo.listDefinitions('alpha')).map((d) => d.id)).toEqual(['films', 'old']);
  });

  it('gives concurrent savers of different content distinct versions, and of the same content one', async () => {
    await repo.createDefinition({ tenantId: 'alpha', id: 'race', document: doc('t0'), createdBy: 'admin' });
    const distinct = await Promise.all(
      ['t1', 't2', 't3'].map((t) => repo.addVersion('alpha', 'race', doc(t), 'admin')),
    );
    expect(distinct.map((r) => r.version.version).sort()).toEqual([2, 3, 4]);
    const same = await Promise.all([1, 2, 3].map(() => repo.addVersion('alpha', 'race', doc('t9'), 'admin')));
    expect(new Set(same.map((r) => r.version.version)).size).toBe(1);
    expect(same.filter((r) => r.created)).toHaveLength(1);
  });
});
