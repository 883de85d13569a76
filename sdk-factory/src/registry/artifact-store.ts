import { createHash } from 'node:crypto';
import type { BlobStore } from '@vansales/buffer';
import { RegistryError, RegistryErrorCode } from './registry-error';

/**
 * Where artifact blobs live in the buffer's store: `artifacts/<tenantId>/<first 2 hex>/<sha256>`.
 * Outside `buffer/`, so neither the S3 lifecycle rule the buffer installs (its filter is the
 * `buffer/` prefix) nor the buffer's purge (it lists `buffer/` only) ever expires an artifact: a
 * definition pinned to an API version must find its artifacts for as long as the version exists.
 */
export const ARTIFACT_PREFIX = 'artifacts/';

export const sha256Hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const SHA256 = /^[0-9a-f]{64}$/;

export function artifactKey(tenantId: string, sha256: string): string {
  if (!SHA256.test(sha256))
    throw new RegistryError(RegistryErrorCode.badInput, `${JSON.stringify(sha256)} is not a sha256 (64 hex digits)`);
  return `${ARTIFACT_PREFIX}${tenantId}/${sha256.slice(0, 2)}/${sha256}`;
}

/** Content-addressed blobs of one store, per tenant. Reads check the bytes against their hash. */
export function artifactBlobs(store: BlobStore) {
  return {
    /** Stores the bytes under their hash (once: the same bytes again are already there). */
    async put(tenantId: string, bytes: Buffer): Promise<string> {
      const sha256 = sha256Hex(bytes);
      const key = artifactKey(tenantId, sha256);
      if (!(await store.putIfAbsent(key, bytes))) {
        // Something is there already: keep it only if it is these bytes (a tampered blob is replaced).
        const existing = await store.get(key);
        if (!existing || sha256Hex(existing) !== sha256) await store.put(key, bytes);
      }
      return sha256;
    },

    /** The bytes of an artifact, verified against their hash; NOT_FOUND when absent, TAMPERED when changed. */
    async get(tenantId: string, sha256: string): Promise<Buffer> {
      const bytes = await store.get(artifactKey(tenantId, sha256));
      if (!bytes)
        throw new RegistryError(
          RegistryErrorCode.notFound,
          `artifact ${sha256} is missing from the store: it was deleted outside the registry; register the API again`,
          { sha256 },
        );
      const actual = sha256Hex(bytes);
      if (actual !== sha256)
        throw new RegistryError(
          RegistryErrorCode.tampered,
          `artifact ${sha256} was changed in the store (its bytes now hash to ${actual}): refusing to use it; register the API again`,
          { sha256, actual },
        );
      return bytes;
    },
  };
}
export type ArtifactBlobs = ReturnType<typeof artifactBlobs>;
