import type { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  S3Client,
  type LifecycleRule,
} from '@aws-sdk/client-s3';
import { assertBlobKey, type BlobStore } from './blob-store';

export interface S3StoreOptions {
  /** S3-compatible endpoint (MinIO, Ceph…); absent for AWS itself. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Both or neither; without them the SDK's default chain (instance role, env, profile) applies. */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** bucket in the path rather than the host name: needed by MinIO and most self-hosted stores. */
  forcePathStyle?: boolean;
}

export interface S3BlobStore extends BlobStore {
  readonly kind: 's3';
  readonly bucket: string;
  /**
   * Creates the bucket when missing and installs (or updates) one lifecycle rule that expires
   * everything under `prefix` after `expireAfterDays`: a backstop for the purge, should it not run.
   * Other rules of a shared bucket are kept.
   */
  ensureBucket(options: { prefix: string; expireAfterDays: number }): Promise<void>;
}

export const LIFECYCLE_RULE_ID = 'vsc-buffer-expiry';

interface AwsError {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}
const statusOf = (err: unknown) => (err as AwsError).$metadata?.httpStatusCode;
const nameOf = (err: unknown) => (err as AwsError).name ?? (err as AwsError).Code;

/** Reads a response body into one buffer of its announced size (no chunk list, no second copy). */
async function readBody(body: Readable, length: number | undefined): Promise<Buffer> {
  if (length === undefined) {
    const parts: Buffer[] = [];
    for await (const part of body) parts.push(part as Buffer);
    return Buffer.concat(parts);
  }
  const out = Buffer.allocUnsafe(length);
  let filled = 0;
  for await (const part of body) {
    const bytes = part as Buffer;
    if (filled + bytes.length > length) throw new Error('S3 sent more bytes than it announced');
    bytes.copy(out, filled);
    filled += bytes.length;
  }
  return out.subarray(0, filled);
}

export function createS3Store(options: S3StoreOptions): S3BlobStore {
  if (!!options.accessKeyId !== !!options.secretAccessKey)
    throw new Error('give both accessKeyId and secretAccessKey, or neither');
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle ?? false,
    credentials:
      options.accessKeyId && options.secretAccessKey
        ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
        : undefined,
  });
  const Bucket = options.bucket;
  const check = (key: string) => (assertBlobKey(key), key);

  async function put(key: string, data: Buffer, ifAbsent: boolean): Promise<boolean> {
    try {
      await client.send(
        new PutObjectCommand({
          Bucket,
          Key: check(key),
          Body: data,
          ContentLength: data.length,
          ...(ifAbsent ? { IfNoneMatch: '*' } : {}),
        }),
      );
      return true;
    } catch (err) {
      // 412: the key exists; 409: another conditional write to it is in flight and will win.
      if (ifAbsent && (statusOf(err) === 412 || statusOf(err) === 409)) return false;
      throw err;
    }
  }

  return {
    kind: 's3',
    bucket: Bucket,

    async put(key, data) {
      await put(key, data, false);
    },

    putIfAbsent: (key, data) => put(key, data, true),

    async get(key, range) {
      if (range && range.length === 0) return Buffer.alloc(0);
      try {
        const res = await client.send(
          new GetObjectCommand({
            Bucket,
            Key: check(key),
            ...(range ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {}),
          }),
        );
        return await readBody(res.Body as Readable, res.ContentLength);
      } catch (err) {
        if (statusOf(err) === 404 || nameOf(err) === 'NoSuchKey') return undefined;
        if (range && statusOf(err) === 416) return Buffer.alloc(0); // the range starts past the end
        throw err;
      }
    },

    async head(key) {
      try {
        const res = await client.send(new HeadObjectCommand({ Bucket, Key: check(key) }));
        return { key, size: res.ContentLength ?? 0, lastModified: res.LastModified ?? new Date(0) };
      } catch (err) {
        if (statusOf(err) === 404 || nameOf(err) === 'NotFound') return undefined;
        throw err;
      }
    },

    async *list(prefix) {
      let token: string | undefined;
      do {
        // Listing is in key order, so the keys of one folder come out together.
        const res = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of res.Contents ?? []) {
          if (o.Key) yield { key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) };
        }
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
    },

    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: check(key) }));
    },

    async deleteMany(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000).map((Key) => ({ Key: check(Key) }));
        const res = await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: batch, Quiet: true } }));
        const failed = res.Errors?.[0];
        if (failed)
          throw new Error(`S3 refused to delete ${failed.Key}: ${failed.Code ?? ''} ${failed.Message ?? ''}`.trim());
      }
    },

    async ensureBucket({ prefix, expireAfterDays }) {
      try {
        await client.send(new HeadBucketCommand({ Bucket }));
      } catch (err) {
        if (statusOf(err) !== 404 && nameOf(err) !== 'NotFound') throw err;
        try {
          await client.send(new CreateBucketCommand({ Bucket }));
        } catch (createErr) {
          // Another gateway node created it first.
          if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(nameOf(createErr) ?? '')) throw createErr;
        }
      }
      let rules: LifecycleRule[] = [];
      try {
        rules = (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket }))).Rules ?? [];
      } catch (err) {
        if (nameOf(err) !== 'NoSuchLifecycleConfiguration' && statusOf(err) !== 404) throw err;
      }
      const ours: LifecycleRule = {
        ID: LIFECYCLE_RULE_ID,
        Status: 'Enabled',
        Filter: { Prefix: prefix },
        Expiration: { Days: expireAfterDays },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      };
      const existing = rules.find((r) => r.ID === LIFECYCLE_RULE_ID);
      if (
        existing &&
        existing.Status === 'Enabled' &&
        existing.Filter?.Prefix === prefix &&
        existing.Expiration?.Days === expireAfterDays
      )
        return;
      await client.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket,
          LifecycleConfiguration: { Rules: [...rules.filter((r) => r.ID !== LIFECYCLE_RULE_ID), ours] },
        }),
      );
    },

    async close() {
      client.destroy();
    },
  };
}
