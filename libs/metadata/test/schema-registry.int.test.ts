import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { throwawayPostgresDatabase } from '@vansales/test-kit';
import {
  createRepositories,
  createSchemaRegistry,
  openMetadataDb,
  SchemaRegistryError,
  snapshotHash,
  type MetadataDb,
  type MetadataTarget,
  type SchemaRegistry,
} from '@vansales/metadata';
import type { SchemaSnapshot, TableSnapshot } from '@vansales/protocol';

const film = (extraColumn = false, rowEstimate = 1000): TableSnapshot => ({
  name: 'film',
  kind: 'table',
  columns: [
    { name: 'film_id', position: 1, dataType: 'integer', nullable: false, default: null },
    { name: 'title', position: 2, dataType: 'text', nullable: false, default: null },
    ...(extraColumn ? [{ name: 'rating', position: 3, dataType: 'text', nullable: true, default: "'G'" }] : []),
  ],
  primaryKey: ['film_id'],
  foreignKeys: [],
  indexes: [{ name: 'film_pkey', columns: ['film_id'], unique: true, primary: true }],
  rowEstimate,
});
const actor: TableSnapshot = {
  name: 'actor',
  kind: 'table',
  columns: [{ name: 'actor_id', position: 1, dataType: 'integer', nullable: false, default: null }],
  primaryKey: ['actor_id'],
  foreignKeys: [],
  indexes: [],
  rowEstimate: 200,
};
const snapshot = (tables: TableSnapshot[]): SchemaSnapshot => ({
  dialect: 'postgres',
  database: 'shop',
  schemas: [{ name: 'public', tables }],
});

type Store = { target: MetadataTarget; drop: () => Promise<void> };

async function pglite(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-schema-registry-'));
  return { target: { kind: 'pglite', dir }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** Real PostgreSQL too: only there do concurrent recorders really race for the next version. */
async function postgres(): Promise<Store> {
  const db = await throwawayPostgresDatabase('vsc_sr');
  return { target: { kind: 'postgres', url: db.url }, drop: db.drop };
}

describe.each([
  ['embedded PGlite', pglite],
  ['PostgreSQL', postgres],
])('schema registry on %s', (_name, makeStore) => {
  let store: Store;
  let db: MetadataDb;
  let registry: SchemaRegistry;

  beforeAll(async () => {
    store = await makeStore();
    db = await openMetadataDb(store.target);
    registry = createSchemaRegistry(db);
    const repos = createRepositories(db);
    await repos.upsertTenant({ id: 'alpha', name: 'Alpha' });
    await repos.upsertTenant({ id: 'beta', name: 'Beta' });
    await repos.createConnector({ id: 'c-alpha', tenantId: 'alpha', name: 'hq' });
    await repos.createConnector({ id: 'c-beta', tenantId: 'beta', name: 'hq' });
  });
  afterAll(async () => {
    await db?.destroy();
    await store?.drop();
  });

  it('adds a version only when the structure changes', async () => {
    const v1 = snapshot([film(), actor]);
    expect(await registry.recordSnapshot('alpha', 'c-alpha', 'shop', v1)).toEqual({ version: 1, changed: true });
    // The same structure again: no new version.
    expect(await registry.recordSnapshot('alpha', 'c-alpha', 'shop', v1)).toEqual({ version: 1, changed: false });
    // Only row estimates moved: data, not structure.
    expect(
      await registry.recordSnapshot(
        'alpha',
        'c-alpha',
        'shop',
        snapshot([film(false, 5000), { ...actor, rowEstimate: 1 }]),
      ),
    ).toEqual({ version: 1, changed: false });
    // Same structure listed in another order: sorted before hashing.
    expect(await registry.recordSnapshot('alpha', 'c-alpha', 'shop', snapshot([actor, film()]))).toEqual({
      version: 1,
      changed: false,
    });
    // A column added: version 2.
    expect(await registry.recordSnapshot('alpha', 'c-alpha', 'shop', snapshot([film(true), actor]))).toEqual({
      version: 2,
      changed: true,
    });
    // Back to the first structure: a new version 3, not a return to 1 (history stays linear).
    expect(await registry.recordSnapshot('alpha', 'c-alpha', 'shop', v1)).toEqual({ version: 3, changed: true });

    const versions = await registry.listVersions('alpha', 'c-alpha', 'shop');
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3]);
    expect(versions[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(versions[0]!.hash).toBe(snapshotHash(v1));
    expect(versions[2]!.hash).toBe(versions[0]!.hash);
    expect(versions[1]!.hash).not.toBe(versions[0]!.hash);
    expect(versions[0]!.createdAt).toBeInstanceOf(Date);
  });

  it('returns stored snapshots sorted, the latest when no version is given', async () => {
    const latest = await registry.getSnapshot('alpha', 'c-alpha', 'shop');
    expect(latest?.version).toBe(3);
    expect(latest?.snapshot.schemas[0]!.tables.map((t) => t.name)).toEqual(['actor', 'film']);
    const v2 = await registry.getSnapshot('alpha', 'c-alpha', 'shop', 2);
    expect(v2?.snapshot).toEqual(snapshot([actor, film(true)]));
    expect(await registry.getSnapshot('alpha', 'c-alpha', 'shop', 99)).toBeUndefined();
    expect(await registry.latestVersion('alpha', 'c-alpha', 'shop')).toBe(3);
  });

  it('numbers versions per connector and database', async () => {
    expect(await registry.recordSnapshot('alpha', 'c-alpha', 'warehouse', snapshot([actor]))).toEqual({
      version: 1,
      changed: true,
    });
    expect(await registry.recordSnapshot('beta', 'c-beta', 'shop', snapshot([film(), actor]))).toEqual({
      version: 1,
      changed: true,
    });
    expect((await registry.listVersions('alpha', 'c-alpha', 'shop')).map((v) => v.version)).toEqual([1, 2, 3]);
  });

  it('diffs two versions either way', async () => {
    const forward = await registry.diffVersions('alpha', 'c-alpha', 'shop', 1, 2);
    expect(forward).toEqual([
      {
        change: 'column-added',
        schema: 'public',
        table: 'film',
        column: 'rating',
        definition: { name: 'rating', position: 3, dataType: 'text', nullable: true, default: "'G'" },
      },
    ]);
    expect(await registry.diffVersions('alpha', 'c-alpha', 'shop', 2, 3)).toEqual([
      {
        change: 'column-removed',
        schema: 'public',
        table: 'film',
        column: 'rating',
        definition: { name: 'rating', position: 3, dataType: 'text', nullable: true, default: "'G'" },
      },
    ]);
    expect(await registry.diffVersions('alpha', 'c-alpha', 'shop', 1, 3)).toEqual([]);
    await expect(registry.diffVersions('alpha', 'c-alpha', 'shop', 1, 42)).rejects.toMatchObject({
      code: 'unknown-version',
    });
  });

  it('scopes every read and write to the tenant', async () => {
    // beta cannot see or diff alpha's connector, nor write to it.
    expect(await registry.getSnapshot('beta', 'c-alpha', 'shop')).toBeUndefined();
    expect(await registry.getSnapshot('beta', 'c-alpha', 'shop', 1)).toBeUndefined();
    expect(await registry.listVersions('beta', 'c-alpha', 'shop')).toEqual([]);
    expect(await registry.latestVersion('beta', 'c-alpha', 'shop')).toBeUndefined();
    await expect(registry.diffVersions('beta', 'c-alpha', 'shop', 1, 2)).rejects.toBeInstanceOf(SchemaRegistryError);
    await expect(registry.recordSnapshot('beta', 'c-alpha', 'shop', snapshot([actor]))).rejects.toMatchObject({
      code: 'unknown-connector',
    });
    // ...and alpha's history is untouched by the attempt.
    expect((await registry.listVersions('alpha', 'c-alpha', 'shop')).map((v) => v.version)).toEqual([1, 2, 3]);
    // beta's own connector holds its own history.
    expect((await registry.getSnapshot('beta', 'c-beta', 'shop'))?.snapshot).toEqual(snapshot([actor, film()]));
  });

  it('refuses a malformed snapshot', async () => {
    const bad = { dialect: 'oracle', database: 'x', schemas: [] } as unknown as SchemaSnapshot;
    await expect(registry.recordSnapshot('alpha', 'c-alpha', 'bad', bad)).rejects.toThrow();
    expect(await registry.listVersions('alpha', 'c-alpha', 'bad')).toEqual([]);
  });

  it('gives concurrent recorders of different structures distinct versions', async () => {
    const structures = [snapshot([actor]), snapshot([film()]), snapshot([film(true)]), snapshot([actor, film()])];
    const results = await Promise.all(structures.map((s) => registry.recordSnapshot('alpha', 'c-alpha', 'race', s)));
    expect(results.map((r) => r.version).sort()).toEqual([1, 2, 3, 4]);
    expect(results.every((r) => r.changed)).toBe(true);
  });
});
