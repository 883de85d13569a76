import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetBucketLifecycleConfigurationCommand } from '@aws-sdk/client-s3';
import { sql } from 'kysely';
import {
  BUFFER_PREFIX,
  BufferKeyring,
  DataBuffer,
  createLocalFolderStore,
  createS3Store,
  newBufferKeySpec,
  type BlobStore,
} from '@vansales/buffer';
import { createApiArtifactRepository, createRepositories, openMetadataDb, type MetadataDb } from '@vansales/metadata';
import { minioClient, testServices, throwawayMinioBucket, throwawayPostgresDatabase } from '@vansales/test-kit';
import {
  ARTIFACT_PREFIX,
  artifactKey,
  artifactSigner,
  artifactVerifier,
  createArtifactRegistry,
  loadOrCreateSigningKey,
  openArtifactRegistry,
  RegistryErrorCode,
  type ArtifactRegistry,
} from '../../src/registry';
import { manifestOf, petstoreEdits, sharedSpec } from './support/specs';

const services = testServices();
const petstore = sharedSpec('v3.0-petstore-expanded.yaml', services.sharedData);
const uspto = sharedSpec('v3.0-uspto.yaml', services.sharedData);

const expectCode = async (p: Promise<unknown>, code: string, message?: RegExp) => {
  const err = (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as { code?: string; message?: string } | undefined;
  expect(err?.code).toBe(code);
  if (message) expect(err?.message).toMatch(message);
};

interface StoreUnderTest {
  store: BlobStore;
  cleanup(): Promise<void>;
}
function localStore(): StoreUnderTest {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-registry-store-'));
  return {
    store: createLocalFolderStore(join(dir, 'store')),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}
async function minioStore(): Promise<StoreUnderTest & { bucket: string }> {
  const minioBucket = throwawayMinioBucket('vsc-registry-test');
  const store = createS3Store(minioBucket.config);
  // As openBufferStore opens it: the buffer's lifecycle rule installed.
  await store.ensureBucket({ prefix: BUFFER_PREFIX, expireAfterDays: 1 });
  return {
    bucket: minioBucket.bucket,
    store,
    async cleanup() {
      await minioBucket.drop();
      await store.close();
    },
  };
}

describe.each([
  ['local folder', localStore],
  ['S3 (MinIO)', minioStore],
] as const)('artifact registry on PostgreSQL and the %s store', (storeName, openStore) => {
  let s: StoreUnderTest;
  let db: MetadataDb;
  let dropDb: () => Promise<void>;
  let keyDir: string;
  let registry: ArtifactRegistry;

  beforeAll(async () => {
    s = await openStore();
    const pg = await throwawayPostgresDatabase('vsc_registry');
    dropDb = pg.drop;
    db = await openMetadataDb({ kind: 'postgres', url: pg.url });
    const repos = createRepositories(db);
    await repos.upsertTenant({ id: 'alpha', name: 'Alpha' });
    await repos.upsertTenant({ id: 'beta', name: 'Beta' });
    keyDir = mkdtempSync(join(tmpdir(), 'vsc-registry-keys-'));
    registry = openArtifactRegistry({
      config: {},
      store: s.store,
      db,
      defaultKeyFile: join(keyDir, 'registry', 'signing-key.pem'),
    });
  });
  afterAll(async () => {
    await db?.destroy();
    await dropDb?.();
    await s?.cleanup();
    rmSync(keyDir, { recursive: true, force: true });
  });

  const register = async (tenantId: string, spec: unknown, apiId = 'petstore') =>
    registry.registerVersion(tenantId, { apiId, spec, manifest: await manifestOf(spec as never), createdBy: 'ana' });

  it('makes a new version for a new spec, and answers the same version for the same spec', async () => {
    const first = await register('alpha', petstore);
    expect(first).toMatchObject({ created: true, version: { version: 1, apiId: 'petstore', createdBy: 'ana' } });
    expect(first.version.artifacts).toEqual({ spec: first.version.specHash, manifest: first.version.manifestHash });
    // The same document again, even with its keys in another order: no new version.
    const reordered = Object.fromEntries(Object.entries(petstore).reverse());
    expect(await register('alpha', reordered)).toMatchObject({ created: false, version: { version: 1 } });
    const second = await register('alpha', petstoreEdits.endpointRemoved(petstore));
    expect(second).toMatchObject({ created: true, version: { version: 2, operationCount: 3 } });
    expect((await registry.listVersions('alpha', 'petstore')).map((v) => v.version)).toEqual([1, 2]);
    expect((await registry.latestVersion('alpha', 'petstore'))?.version).toBe(2);
    expect(await registry.getApi('alpha', 'petstore')).toMatchObject({ name: 'Swagger Petstore' });
  });

  it('gives back the spec and the manifest, verified, by content hash', async () => {
    expect(await registry.loadSpec('alpha', 'petstore', 1)).toEqual(petstore);
    const manifest = await registry.loadManifest('alpha', 'petstore', 2);
    expect(manifest.operations.map((o) => o.key).sort()).toEqual(['addPet', 'find pet by id', 'findPets']);
    const v1 = (await registry.getVersion('alpha', 'petstore', 1))!;
    expect(await s.store.head(artifactKey('alpha', v1.specHash))).toBeDefined();
  });

  it('refuses a manifest made from another document, and a Swagger 2.0 spec not yet converted', async () => {
    await expectCode(
      registry.registerVersion('alpha', {
        apiId: 'uspto',
        spec: uspto,
        manifest: await manifestOf(petstore),
        createdBy: 'ana',
      }),
      RegistryErrorCode.badInput,
      /made from another document/,
    );
    const swagger = { swagger: '2.0', info: { title: 'x', version: '1' }, paths: {} };
    await expectCode(
      registry.registerVersion('alpha', {
        apiId: 'old',
        spec: swagger,
        manifest: await manifestOf(petstore),
        createdBy: 'ana',
      }),
      RegistryErrorCode.badInput,
      /Swagger 2.0 is converted/,
    );
  });

  it('refuses a tampered artifact: its bytes changed in the store', async () => {
    const { version } = await register('alpha', uspto, 'uspto');
    const key = artifactKey('alpha', version.specHash);
    const original = (await s.store.get(key))!;
    const edited = Buffer.from(original.toString('utf8').replace('"3.0.1"', '"3.0.2"'));
    expect(edited.equals(original)).toBe(false);
    await s.store.put(key, edited);
    await expectCode(
      registry.loadSpec('alpha', 'uspto', version.version),
      RegistryErrorCode.tampered,
      /was changed in the store/,
    );
    // Registering the same spec again restores the blob.
    await register('alpha', uspto, 'uspto');
    expect(await registry.loadSpec('alpha', 'uspto', version.version)).toEqual(uspto);
  });

  it('refuses an artifact whose signature does not verify, or that an untrusted key signed', async () => {
    const version = (await registry.getVersion('alpha', 'petstore', 1))!;
    const row = await db
      .selectFrom('api_artifacts')
      .select(['signature', 'key_id'])
      .where('tenant_id', '=', 'alpha')
      .where('sha256', '=', version.manifestHash)
      .executeTakeFirstOrThrow();
    // One bit of the signature flipped.
    const flipped = Buffer.from(row.signature, 'base64');
    flipped[10]! ^= 1;
    await db
      .updateTable('api_artifacts')
      .set({ signature: flipped.toString('base64') })
      .where('tenant_id', '=', 'alpha')
      .where('sha256', '=', version.manifestHash)
      .execute();
    await expectCode(registry.loadManifest('alpha', 'petstore', 1), RegistryErrorCode.badSignature, /does not verify/);
    await db
      .updateTable('api_artifacts')
      .set({ signature: row.signature })
      .where('tenant_id', '=', 'alpha')
      .where('sha256', '=', version.manifestHash)
      .execute();
    await expect(registry.loadManifest('alpha', 'petstore', 1)).resolves.toBeDefined();
    // Re-signed by someone else's key (a valid Ed25519 signature, but not by a key this factory trusts).
    const mallory = artifactSigner(generateKeyPairSync('ed25519').privateKey);
    const size = (await s.store.head(artifactKey('alpha', version.manifestHash)))!.size;
    const forged = mallory.sign({ tenantId: 'alpha', kind: 'manifest', sha256: version.manifestHash, size });
    await db
      .updateTable('api_artifacts')
      .set({ signature: forged.signature, key_id: forged.keyId })
      .where('tenant_id', '=', 'alpha')
      .where('sha256', '=', version.manifestHash)
      .execute();
    await expectCode(registry.loadManifest('alpha', 'petstore', 1), RegistryErrorCode.untrustedKey, /does not trust/);
    // ... and with our key id on it, it is a wrong signature.
    await db
      .updateTable('api_artifacts')
      .set({ key_id: row.key_id })
      .where('tenant_id', '=', 'alpha')
      .where('sha256', '=', version.manifestHash)
      .execute();
    await expectCode(registry.loadManifest('alpha', 'petstore', 1), RegistryErrorCode.badSignature);
    await db
      .updateTable('api_artifacts')
      .set({ signature: row.signature })
      .where('tenant_id', '=', 'alpha')
      .where('sha256', '=', version.manifestHash)
      .execute();
    await expect(registry.loadManifest('alpha', 'petstore', 1)).resolves.toBeDefined();
  });

  it('trusts a previous key after a rotation only when configured to', async () => {
    const oldKeyFile = join(keyDir, 'registry', 'signing-key.pem');
    const oldSigner = loadOrCreateSigningKey(oldKeyFile);
    const repo = createApiArtifactRepository(db);
    const rotated = (trusted: boolean) =>
      createArtifactRegistry({
        store: s.store,
        repo,
        signer: artifactSigner(generateKeyPairSync('ed25519').privateKey),
        verifier: artifactVerifier(trusted ? [oldSigner.publicKey] : []),
      });
    await expectCode(rotated(false).loadSpec('alpha', 'petstore', 1), RegistryErrorCode.untrustedKey);
    expect(await rotated(true).loadSpec('alpha', 'petstore', 1)).toEqual(petstore);
  });

  it('keeps tenants apart: another tenant sees none of it, and its same spec is its own version 1', async () => {
    const alphaV2 = (await registry.getVersion('alpha', 'petstore', 2))!;
    expect(await registry.getApi('beta', 'petstore')).toBeUndefined();
    expect(await registry.listVersions('beta', 'petstore')).toEqual([]);
    expect(await registry.listApis('beta')).toEqual([]);
    await expectCode(
      registry.loadSpec('beta', 'petstore', 2),
      RegistryErrorCode.notFound,
      /no API petstore in tenant beta/,
    );
    await expectCode(registry.readArtifact('beta', alphaV2.specHash), RegistryErrorCode.notFound);
    const beta = await register('beta', petstoreEdits.endpointRemoved(petstore));
    expect(beta).toMatchObject({ created: true, version: { version: 1, specHash: alphaV2.specHash } });
    // The same bytes, stored and signed per tenant: alpha's record moved to beta would not verify.
    expect(await s.store.head(artifactKey('beta', alphaV2.specHash))).toBeDefined();
    const alphaRow = await db
      .selectFrom('api_artifacts')
      .selectAll()
      .where('tenant_id', '=', 'alpha')
      .where('sha256', '=', alphaV2.specHash)
      .executeTakeFirstOrThrow();
    const betaRow = await db
      .selectFrom('api_artifacts')
      .selectAll()
      .where('tenant_id', '=', 'beta')
      .where('sha256', '=', alphaV2.specHash)
      .executeTakeFirstOrThrow();
    expect(betaRow.signature).not.toBe(alphaRow.signature);
    await db
      .updateTable('api_artifacts')
      .set({ signature: alphaRow.signature })
      .where('tenant_id', '=', 'beta')
      .where('sha256', '=', alphaV2.specHash)
      .execute();
    await expectCode(registry.loadSpec('beta', 'petstore', 1), RegistryErrorCode.badSignature);
    expect(await registry.loadSpec('alpha', 'petstore', 2)).toEqual(petstoreEdits.endpointRemoved(petstore));
  });

  it('numbers versions without gaps or doubles when registrations race', async () => {
    const specs = [1, 2, 3, 4].map((n) => ({ ...petstore, info: { ...petstore.info, version: `1.${n}.0` } }));
    const results = await Promise.all([...specs, specs[0]!].map((spec) => register('alpha', spec, 'race')));
    // Each new spec its own number, whichever order they land in; the repeated spec the same as its first.
    expect(
      results
        .slice(0, 4)
        .map((r) => r.version.version)
        .sort(),
    ).toEqual([1, 2, 3, 4]);
    expect(results[4]!.version.version).toBe(results[0]!.version.version);
    expect(results.filter((r) => r.created)).toHaveLength(4);
    expect((await registry.listVersions('alpha', 'race')).map((v) => v.apiVersion).sort()).toEqual([
      '1.1.0',
      '1.2.0',
      '1.3.0',
      '1.4.0',
    ]);
  });

  it('keeps versions immutable', async () => {
    await expect(
      sql`update api_versions set created_by = 'mallory' where tenant_id = 'alpha'`.execute(db),
    ).rejects.toThrow(/immutable/);
  });

  it('adds SDK bundles to a version, verified on the way out', async () => {
    const bundle = Buffer.from('export const listPets = () => 1;\n');
    const row = await registry.attachBundle('alpha', 'petstore', 2, 'node', bundle, 'factory');
    expect(row.kind).toBe('bundle');
    expect((await registry.loadBundle('alpha', 'petstore', 2, 'node')).equals(bundle)).toBe(true);
    expect((await registry.getVersion('alpha', 'petstore', 2))!.artifacts['bundle:node']).toBe(row.sha256);
    await expectCode(registry.loadBundle('alpha', 'petstore', 1, 'node'), RegistryErrorCode.notFound);
  });

  it(`never expires artifacts with the buffer's datasets (${storeName})`, async () => {
    // The buffer shares the store: its purge, a year on, removes its own objects only.
    const buffer = new DataBuffer({
      store: s.store,
      keyring: BufferKeyring.fromSpec(newBufferKeySpec()),
      defaultTtlSeconds: 60,
    });
    const { objectId } = await buffer.createObject('alpha');
    const artifactsBefore: string[] = [];
    for await (const e of s.store.list(ARTIFACT_PREFIX)) artifactsBefore.push(e.key);
    expect(artifactsBefore.length).toBeGreaterThan(0);
    const purged = await buffer.purgeExpired(Date.now() + 365 * 86_400_000);
    expect(purged.objectsDeleted).toBeGreaterThanOrEqual(1);
    await expectCode(buffer.readManifest('alpha', objectId), 'NOT_FOUND');
    const artifactsAfter: string[] = [];
    for await (const e of s.store.list(ARTIFACT_PREFIX)) artifactsAfter.push(e.key);
    expect(artifactsAfter).toEqual(artifactsBefore);
    if ('bucket' in s) {
      // S3: the only expiring rule is the buffer's, filtered to buffer/: nothing under artifacts/ matches it.
      const client = minioClient();
      try {
        const { Rules = [] } = await client.send(
          new GetBucketLifecycleConfigurationCommand({ Bucket: (s as { bucket: string }).bucket }),
        );
        const expiring = Rules.filter((r) => r.Status === 'Enabled' && r.Expiration);
        expect(expiring.map((r) => r.Filter?.Prefix)).toEqual([BUFFER_PREFIX]);
        expect(ARTIFACT_PREFIX.startsWith(BUFFER_PREFIX)).toBe(false);
      } finally {
        client.destroy();
      }
    }
  });
});
