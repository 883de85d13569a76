import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { testServices } from '@vansales/test-kit';
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

export function minioClient(): S3Client {
  return new S3Client({
    endpoint: minio.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey },
  });
}

/** A bucket of its own on the test MinIO, emptied and removed by cleanup. */
export async function s3Store(): Promise<StoreUnderTest & { store: S3BlobStore; bucket: string }> {
  const bucket = `vsc-buffer-test-${randomBytes(5).toString('hex')}`;
  const store = createS3Store({
    endpoint: minio.endpoint,
    region: 'us-east-1',
    bucket,
    accessKeyId: minio.accessKeyId,
    secretAccessKey: minio.secretAccessKey,
    forcePathStyle: true,
  });
  await store.ensureBucket({ prefix: BUFFER_PREFIX, expireAfterDays: 1 });
  return {
    bucket,
    store,
    async cleanup() {
      const keys: string[] = [];
      for await (const entry of store.list('')) keys.push(entry.key);
      await store.deleteMany(keys);
      const client = minioClient();
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
      client.destroy();
      await store.close();
    },
  };
}

export const storeKinds = [
  ['local folder', localStore],
  ['S3 (MinIO)', s3Store],
] as const;
