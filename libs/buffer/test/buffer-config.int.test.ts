import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteBucketCommand } from '@aws-sdk/client-s3';
import { loadBufferConfig, newBufferKeySpec, openDataBuffer } from '@vansales/buffer';
import { minio, minioClient } from './support/stores';

const keys = newBufferKeySpec('k1');
const tokenSecret = randomBytes(32).toString('base64');
const base = { VSC_BUFFER_KEYS: keys, VSC_BUFFER_TOKEN_SECRET: tokenSecret };

describe('buffer configuration', () => {
  it('applies documented defaults', () => {
    expect(loadBufferConfig(base)).toMatchObject({
      VSC_BUFFER_STORE: 'local',
      VSC_BUFFER_S3_REGION: 'us-east-1',
      VSC_BUFFER_TTL_SECONDS: 86_400,
    });
  });

  it('refuses a bad setting by name, never echoing secrets', () => {
    const shortKey = `k1:${randomBytes(16).toString('base64')}`;
    const cases: [Record<string, string>, RegExp][] = [
      [{ VSC_BUFFER_KEYS: shortKey }, /VSC_BUFFER_KEYS: key k1 is 16 bytes; it must be base64 of 32 random bytes/],
      [{ VSC_BUFFER_KEYS: 'k1' }, /VSC_BUFFER_KEYS: each key is <id>:<base64 of 32 bytes>/],
      [{ VSC_BUFFER_KEYS: `${keys},${keys}` }, /VSC_BUFFER_KEYS: key id k1 is given twice/],
      [
        { VSC_BUFFER_TOKEN_SECRET: randomBytes(20).toString('base64') },
        /VSC_BUFFER_TOKEN_SECRET: the token secret is 20 bytes/,
      ],
      [{ VSC_BUFFER_STORE: 'ftp' }, /VSC_BUFFER_STORE/],
      [{ VSC_BUFFER_STORE: 's3' }, /VSC_BUFFER_S3_BUCKET: required when VSC_BUFFER_STORE is s3/],
      [{ VSC_BUFFER_S3_BUCKET: 'Bad_Bucket' }, /VSC_BUFFER_S3_BUCKET: expected an S3 bucket name/],
      [
        { VSC_BUFFER_S3_ACCESS_KEY_ID: 'AKIAEXAMPLE' },
        /set both VSC_BUFFER_S3_ACCESS_KEY_ID and VSC_BUFFER_S3_SECRET_ACCESS_KEY/,
      ],
      [{ VSC_BUFFER_TTL_SECONDS: 'a day' }, /VSC_BUFFER_TTL_SECONDS/],
      [{ VSC_BUFFER_S3_ENDPOINT: 'minio:9000' }, /VSC_BUFFER_S3_ENDPOINT/],
    ];
    for (const [overrides, message] of cases) {
      let error: Error | undefined;
      try {
        loadBufferConfig({ ...base, ...overrides });
      } catch (err) {
        error = err as Error;
      }
      expect(error?.message).toMatch(message);
      for (const secret of [shortKey, keys, tokenSecret, ...Object.values(overrides)].filter((v) => v.length > 12)) {
        expect(error?.message).not.toContain(secret.split(':').pop());
      }
    }
    expect(() => loadBufferConfig({ VSC_BUFFER_TOKEN_SECRET: tokenSecret })).toThrow(/VSC_BUFFER_KEYS/);
    expect(() => loadBufferConfig({ VSC_BUFFER_KEYS: keys })).toThrow(/VSC_BUFFER_TOKEN_SECRET/);
  });

  it('opens a local buffer in the given or default folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsc-buffer-config-'));
    try {
      const buffer = await openDataBuffer(loadBufferConfig(base), { defaultDir: dir });
      expect(buffer.store.kind).toBe('local');
      const { objectId } = await buffer.createObject('acme');
      await buffer.writeChunk('acme', objectId, 0, Buffer.from('x'), 1);
      await expect(openDataBuffer(loadBufferConfig(base))).rejects.toThrow(/VSC_BUFFER_DIR: required/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens an S3 buffer, creating its bucket', async () => {
    const bucket = `vsc-buffer-cfg-${randomBytes(4).toString('hex')}`;
    const config = loadBufferConfig({
      ...base,
      VSC_BUFFER_STORE: 's3',
      VSC_BUFFER_S3_ENDPOINT: minio.endpoint,
      VSC_BUFFER_S3_BUCKET: bucket,
      VSC_BUFFER_S3_ACCESS_KEY_ID: minio.accessKeyId,
      VSC_BUFFER_S3_SECRET_ACCESS_KEY: minio.secretAccessKey,
      VSC_BUFFER_TTL_SECONDS: '3600',
    });
    const buffer = await openDataBuffer(config);
    try {
      expect(buffer.store.kind).toBe('s3');
      expect(buffer.defaultTtlSeconds).toBe(3600);
      const { objectId } = await buffer.createObject('acme');
      await buffer.writeChunk('acme', objectId, 0, Buffer.from('x'), 1);
      await buffer.deleteObject('acme', objectId);
    } finally {
      await buffer.close();
      const client = minioClient();
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
      client.destroy();
    }
  });
});
