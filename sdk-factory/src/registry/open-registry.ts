import type { BlobStore } from '@vansales/buffer';
import { createApiArtifactRepository, type MetadataDb } from '@vansales/metadata';
import { oasdiffBinaryPath, type RegistrySettings } from './config';
import { oasdiffRunner } from './oasdiff';
import { createArtifactRegistry, type ArtifactRegistry } from './registry';
import { RegistryError, RegistryErrorCode } from './registry-error';
import {
  artifactVerifier,
  loadOrCreateSigningKey,
  parseTrustedKeys,
  publicKeyId,
  type ArtifactSigner,
} from './signing';

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

/**
 * A registry that reads and verifies artifacts but never signs (a cloud worker running operation
 * steps): it holds no private key, only the public keys it trusts (VSC_REGISTRY_TRUSTED_KEYS, the
 * gateway's key among them), so a worker that is broken into cannot make an artifact others accept.
 */
export function openArtifactReader(options: {
  trustedKeys: string;
  store: BlobStore;
  db: MetadataDb;
}): ArtifactRegistry {
  const keys = parseTrustedKeys(options.trustedKeys);
  const first = keys[0];
  if (!first)
    throw new RegistryError(
      RegistryErrorCode.badKey,
      "VSC_REGISTRY_TRUSTED_KEYS: name the gateway's registry key (base64 SPKI DER; GET /v1/agent/registry-keys lists it)",
    );
  const readOnly: ArtifactSigner = {
    keyId: publicKeyId(first),
    publicKey: first,
    sign: () => {
      throw new RegistryError(RegistryErrorCode.badKey, 'this process only reads artifacts; the gateway signs them');
    },
  };
  return createArtifactRegistry({
    store: options.store,
    repo: createApiArtifactRepository(options.db),
    signer: readOnly,
    verifier: artifactVerifier(keys),
    publicKeys: keys,
  });
}
