import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { minioClient, testServices, throwawayMinioBucket } from '@vansales/test-kit';
import {
  BUFFER_PREFIX,
  createLocalFolderStore,
  createS3Store,
  type BlobStore,
  type S3BlobStore,
} from '@vansales/buffer';

export const minio = testServices().minio;

export interface StoreUnderTest {
  store: BlobStore;
  cleanup(): Promise<void>;
}

export function localStore(): StoreUnderTest & { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-buffer-test-'));
  return {
    dir,
    store: createLocalFolderStore(join(dir, 'store')),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export { minioClient };

/** A bucket of its own on the test MinIO, emptied and removed by cleanup. */
export async function s3Store(): Promise<StoreUnderTest & { store: S3BlobStore; bucket: string }> {
  const minioBucket = throwawayMinioBucket('vsc-buffer-test');
  const store = createS3Store(minioBucket.config);
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

export const storeKinds = [
  ['local folder', localStore],
  ['S3 (MinIO)', s3Store],
] as const;
