import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalFolderStore, type DataBuffer } from '@vansales/buffer';
import { createApiCallRepository, createRepositories, openMetadataDb, type MetadataDb } from '@vansales/metadata';
import { buildOperationBundles } from '@vansales/sdk-factory/codegen';
import { ingestSpec } from '@vansales/sdk-factory/ingest';
import { attachOperationBundles, openArtifactRegistry, type ArtifactRegistry } from '@vansales/sdk-factory/registry';
import { newPayloadKeySpec } from '@vansales/temporal-config';
import { testServices, throwawayPostgresDatabase } from '@vansales/test-kit';
import { apiOperationsOf } from '../src/cloud-worker';
import { loadCloudWorkerConfig } from '../src/config';

// The cloud worker's own process wires operation steps from its environment: the gateway's registry
// read (never signed) under the keys it is told to trust, and every call into the audit table.
const services = testServices();
const base = { TEMPORAL_ADDRESS: services.temporalAddress, VSC_PAYLOAD_KEYS: newPayloadKeySpec('cw-ops') };

describe('cloud worker: API operations from its environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-cw-ops-'));
  let db: MetadataDb;
  let drop: () => Promise<void>;
  let url: string;
  let gatewayRegistry: ArtifactRegistry;
  const store = createLocalFolderStore(join(dir, 'store'));
  const buffer = { store } as unknown as DataBuffer;
  const env = (over: Record<string, string>) => loadCloudWorkerConfig({ ...base, DATABASE_URL: url, ...over });

  beforeAll(async () => {
    const pg = await throwawayPostgresDatabase('vsc_cw_ops');
    ({ url, drop } = pg);
    db = await openMetadataDb({ kind: 'postgres', url });
    await createRepositories(db).upsertTenant({ id: 'alpha', name: 'Alpha' });
    // What the gateway does at registration: sign the version and its operation bundles.
    gatewayRegistry = openArtifactRegistry({ config: {}, store, db, defaultKeyFile: join(dir, 'keys', 'signing.pem') });
    if (!services.sharedData) throw new Error('shared/data not found beside the clone (VSC_SHARED_DATA)');
    const text = readFileSync(join(services.sharedData, 'openapi', 'v3.0-petstore-expanded.yaml'), 'utf8');
    const { manifest, document } = await ingestSpec({ text });
    const { version } = await gatewayRegistry.registerVersion('alpha', {
      apiId: 'petstore',
      spec: document,
      manifest,
      createdBy: 'ana',
    });
    await attachOperationBundles(
      gatewayRegistry,
      'alpha',
      'petstore',
      version.version,
      await buildOperationBundles(manifest),
      'ana',
    );
  }, 120_000);
  afterAll(async () => {
    await db?.destroy();
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  const gatewayKeys = () =>
    gatewayRegistry
      .publicKeys()
      .map((k) => k.publicKey)
      .join(',');

  it('loads a pinned operation verified under the gateway key, and audits each call', async () => {
    const deps = await apiOperationsOf(env({ VSC_REGISTRY_TRUSTED_KEYS: gatewayKeys() }), buffer);
    expect(deps).toBeDefined();
    const { manifest, bundle } = await deps!.load('alpha', { apiId: 'petstore', version: 1, key: 'findPets' });
    expect(manifest.operations.map((o) => o.key)).toContain('findPets');
    expect(bundle).toContain('findPets');
    deps!.onCall!({
      tenantId: 'alpha',
      apiId: 'petstore',
      version: 1,
      operationKey: 'findPets',
      side: 'cloud',
      status: 200,
      requestBytes: 0,
      responseBytes: 120,
      durationMs: 12.6,
    });
    const audit = createApiCallRepository(db);
    const listed = async () => (await audit.listApiCalls('alpha', {})).calls;
    for (let i = 0; i < 100 && (await listed()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await listed()).toEqual([
      expect.objectContaining({ apiId: 'petstore', operationKey: 'findPets', status: 200, durationMs: 13 }),
    ]);
  });

  it('refuses artifacts signed by a key it was not told to trust, and wires nothing without the keys', async () => {
    const other = openArtifactRegistry({ config: {}, store, db, defaultKeyFile: join(dir, 'other', 'signing.pem') });
    const stranger = other
      .publicKeys()
      .map((k) => k.publicKey)
      .join(',');
    const deps = await apiOperationsOf(env({ VSC_REGISTRY_TRUSTED_KEYS: stranger }), buffer);
    await expect(deps!.load('alpha', { apiId: 'petstore', version: 1, key: 'findPets' })).rejects.toMatchObject({
      code: 'UNTRUSTED_KEY',
    });
    expect(await apiOperationsOf(env({}), buffer)).toBeUndefined();
    expect(() => loadCloudWorkerConfig({ ...base, VSC_REGISTRY_TRUSTED_KEYS: stranger })).toThrow(/DATABASE_URL/);
  });
});
