import type { ApiVersionRow } from '@vansales/metadata';
import type { OperationManifest } from '../manifest';
import { operationBundleName } from './bundle-name';
import type { ArtifactRegistry } from './registry';
import { RegistryError, RegistryErrorCode } from './registry-error';

/** True when the version carries a sandbox bundle for every operation of its manifest. */
export function hasOperationBundles(version: ApiVersionRow, keys: readonly string[]): boolean {
  return keys.every((key) => version.artifacts[`bundle:${operationBundleName(key)}`] !== undefined);
}

/** Attaches each operation's bundle (from codegen's `buildOperationBundles`) to a version, signed like every artifact. */
export async function attachOperationBundles(
  registry: ArtifactRegistry,
  tenantId: string,
  apiId: string,
  version: number,
  bundles: readonly { key: string; bundle: string }[],
  createdBy: string,
): Promise<void> {
  for (const { key, bundle } of bundles)
    await registry.attachBundle(
      tenantId,
      apiId,
      version,
      operationBundleName(key),
      Buffer.from(bundle, 'utf8'),
      createdBy,
    );
}

/** An operation step's pin: which API, which version, which operation. */
export interface OperationRef {
  apiId: string;
  version: number;
  key: string;
}

/**
 * What a side needs to run one pinned operation, by hash: the version's manifest and the operation's
 * bundle. The cloud reads them verified from here; an agent gets the two hashes and fetches by hash.
 */
export async function operationArtifactHashes(
  registry: ArtifactRegistry,
  tenantId: string,
  ref: OperationRef,
): Promise<{ manifestSha256: string; bundleSha256: string }> {
  const version = await registry.getVersion(tenantId, ref.apiId, ref.version);
  if (!version)
    throw new RegistryError(
      RegistryErrorCode.notFound,
      `API ${ref.apiId} has no version ${ref.version} in tenant ${tenantId}`,
      { apiId: ref.apiId, version: ref.version },
    );
  const bundleSha256 = version.artifacts[`bundle:${operationBundleName(ref.key)}`];
  if (!bundleSha256) throw missingBundle(ref);
  return { manifestSha256: version.manifestHash, bundleSha256 };
}

function missingBundle(ref: OperationRef): RegistryError {
  return new RegistryError(
    RegistryErrorCode.notFound,
    `API ${ref.apiId} v${ref.version} has no sandbox SDK for operation ${JSON.stringify(ref.key)}: register the same specification again to build it`,
    { apiId: ref.apiId, version: ref.version },
  );
}

/** The verified manifest and the operation's verified bundle; the operation must be in the manifest. */
export async function loadOperation(
  registry: ArtifactRegistry,
  tenantId: string,
  ref: OperationRef,
): Promise<{ manifest: OperationManifest; bundle: string }> {
  const manifest = await registry.loadManifest(tenantId, ref.apiId, ref.version);
  if (!manifest.operations.some((o) => o.key === ref.key))
    throw new RegistryError(
      RegistryErrorCode.notFound,
      `API ${ref.apiId} v${ref.version} has no operation ${JSON.stringify(ref.key)}`,
      { apiId: ref.apiId, version: ref.version },
    );
  const { bundleSha256 } = await operationArtifactHashes(registry, tenantId, ref);
  const bundle = await registry.readArtifact(tenantId, bundleSha256, 'bundle');
  return { manifest, bundle: bundle.toString('utf8') };
}
