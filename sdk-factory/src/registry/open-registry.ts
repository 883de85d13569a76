import type { BlobStore } from '@vansales/buffer';
import { createApiArtifactRepository, type MetadataDb } from '@vansales/metadata';
import { oasdiffBinaryPath, type RegistrySettings } from './config';
import { oasdiffRunner } from './oasdiff';
import { createArtifactRegistry, type ArtifactRegistry } from './registry';
import { RegistryError, RegistryErrorCode } from './registry-error';
import { artifactVerifier, loadOrCreateSigningKey, parseTrustedKeys } from './signing';

/**
 * The registry a process's config describes: its signing key (made on first start), the keys it
 * trusts, the oasdiff binary, over the buffer's store (openBufferStore) and the metadata store.
 */
export function openArtifactRegistry(options: {
  config: RegistrySettings;
  store: BlobStore;
  db: MetadataDb;
  /** The key file when VSC_REGISTRY_SIGNING_KEY_FILE is unset (beside the process's other keys). */
  defaultKeyFile?: string;
}): ArtifactRegistry {
  const keyFile = options.config.VSC_REGISTRY_SIGNING_KEY_FILE ?? options.defaultKeyFile;
  if (!keyFile)
    throw new RegistryError(
      RegistryErrorCode.badKey,
      'VSC_REGISTRY_SIGNING_KEY_FILE: required (where the factory keeps its signing key)',
    );
  const signer = loadOrCreateSigningKey(keyFile);
  const trusted = options.config.VSC_REGISTRY_TRUSTED_KEYS
    ? parseTrustedKeys(options.config.VSC_REGISTRY_TRUSTED_KEYS)
    : [];
  return createArtifactRegistry({
    store: options.store,
    repo: createApiArtifactRepository(options.db),
    signer,
    verifier: artifactVerifier([signer.publicKey, ...trusted]),
    publicKeys: [signer.publicKey, ...trusted],
    oasdiff: oasdiffRunner(oasdiffBinaryPath(options.config)),
  });
}
