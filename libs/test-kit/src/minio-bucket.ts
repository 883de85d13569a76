import { randomBytes } from 'node:crypto';
import { DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { testServices } from './test-env';

/** What `createS3Store` (libs/buffer) takes to open a bucket on the test MinIO. */
export interface MinioBucketConfig {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: true;
}

export interface ThrowawayMinioBucket {
  bucket: string;
  config: MinioBucketConfig;
  /** An S3 client on the test MinIO (the caller destroys it). */
  client(): S3Client;
  /** Empties the bucket and removes it (the store that used it is the caller's to close). */
  drop(): Promise<void>;
}

/** An S3 client on the test MinIO. */
export function minioClient(): S3Client {
  const { minio } = testServices();
  return new S3Client({
    endpoint: minio.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey },
  });
}

/**
 * A bucket name of its own on the test MinIO (created by the store that opens it) and how to remove
 * it with everything in it: the one setup the buffer's and the artifact registry's store tests share.
 */
export function throwawayMinioBucket(prefix: string): ThrowawayMinioBucket {
  const { minio } = testServices();
  const bucket = `${prefix}-${randomBytes(5).toString('hex')}`;
  return {
    bucket,
    config: {
      endpoint: minio.endpoint,
      region: 'us-east-1',
      bucket,
      accessKeyId: minio.accessKeyId,
      secretAccessKey: minio.secretAccessKey,
      forcePathStyle: true,
    },
    client: minioClient,
    async drop() {
      const client = minioClient();
      try {
        let token: string | undefined;
        do {
          const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
          const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
          if (keys.length) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
          token = page.NextContinuationToken;
        } while (token);
        await client.send(new DeleteBucketCommand({ Bucket: bucket }));
      } finally {
        client.destroy();
      }
    },
  };
}
