import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { GetBucketLifecycleConfigurationCommand, PutBucketLifecycleConfigurationCommand } from '@aws-sdk/client-s3';
import {
  BUFFER_PREFIX,
  LIFECYCLE_RULE_ID,
  createLocalFolderStore,
  createS3Store,
  type BlobStore,
} from '@vansales/buffer';
import { localStore, minio, minioClient, s3Store, storeKinds, type StoreUnderTest } from './support/stores';

const keysOf = async (store: BlobStore, prefix: string) => {
  const out: string[] = [];
  for await (const e of store.list(prefix)) out.push(e.key);
  return out;
};

describe.each(storeKinds)('blob store: %s', (_name, open) => {
  let s: StoreUnderTest;
  beforeAll(async () => {
    s = await open();
  });
  afterAll(async () => s.cleanup());

  it('puts, gets, heads and deletes whole blobs', async () => {
    const data = randomBytes(100_000);
    await s.store.put('t/a/one.bin', data);
    expect((await s.store.get('t/a/one.bin'))!.equals(data)).toBe(true);
    expect(await s.store.head('t/a/one.bin')).toMatchObject({ key: 't/a/one.bin', size: 100_000 });
    expect((await s.store.head('t/a/one.bin'))!.lastModified.getTime()).toBeGreaterThan(Date.now() - 60_000);
    await s.store.put('t/a/one.bin', Buffer.from('replaced'));
    expect((await s.store.get('t/a/one.bin'))!.toString()).toBe('replaced');
    await s.store.delete('t/a/one.bin');
    expect(await s.store.get('t/a/one.bin')).toBeUndefined();
    expect(await s.store.head('t/a/one.bin')).toBeUndefined();
    await expect(s.store.delete('t/a/one.bin')).resolves.toBeUndefined();
  });

  it('reads a byte range, and fewer bytes past the end', async () => {
    await s.store.put('t/r/x', Buffer.from('0123456789'));
    expect((await s.store.get('t/r/x', { offset: 2, length: 3 }))!.toString()).toBe('234');
    expect((await s.store.get('t/r/x', { offset: 8, length: 10 }))!.toString()).toBe('89');
    expect((await s.store.get('t/r/x', { offset: 20, length: 5 }))!.length).toBe(0);
    expect(await s.store.get('t/r/missing', { offset: 0, length: 5 })).toBeUndefined();
  });

  it('writes if absent only once', async () => {
    expect(await s.store.putIfAbsent('t/once/h', Buffer.from('first'))).toBe(true);
    expect(await s.store.putIfAbsent('t/once/h', Buffer.from('second'))).toBe(false);
    expect((await s.store.get('t/once/h'))!.toString()).toBe('first');
  });

  it('lists by prefix with the keys of one folder together', async () => {
    for (const k of ['l/b/2', 'l/a/1', 'l/a-x/1', 'l/b/1', 'l/a/2', 'm/z']) await s.store.put(k, Buffer.from(k));
    const keys = await keysOf(s.store, 'l/');
    expect([...keys].sort()).toEqual(['l/a-x/1', 'l/a/1', 'l/a/2', 'l/b/1', 'l/b/2']);
    const folders = keys.map((k) => k.split('/')[1]);
    expect(folders.filter((f, i) => i > 0 && f !== folders[i - 1]).length).toBe(2); // three runs, one per folder
    expect(await keysOf(s.store, 'l/a/')).toEqual(['l/a/1', 'l/a/2']);
    // A prefix that ends inside a name matches every folder starting with it, as S3 does.
    expect([...(await keysOf(s.store, 'l/a'))].sort()).toEqual(['l/a-x/1', 'l/a/1', 'l/a/2']);
    expect(await keysOf(s.store, 'l/b/1')).toEqual(['l/b/1']);
    expect(await keysOf(s.store, 'nothing/')).toEqual([]);
    await s.store.deleteMany(keys);
    expect(await keysOf(s.store, 'l/')).toEqual([]);
  });

  it('refuses keys that could leave the store', async () => {
    for (const key of ['../x', 'a/../../x', '/abs', 'a//b', 'a/./b', 'a\\b', '']) {
      await expect(s.store.put(key, Buffer.from('x'))).rejects.toThrow(/invalid blob key/);
      await expect(s.store.get(key)).rejects.toThrow(/invalid blob key/);
    }
  });
});

describe('local folder store', () => {
  let s: ReturnType<typeof localStore>;
  beforeAll(() => {
    s = localStore();
  });
  afterAll(async () => s.cleanup());

  it('keeps files 0600 and folders 0700, and leaves no temporary files', async () => {
    await s.store.put('p/q/file.bin', randomBytes(10));
    await s.store.putIfAbsent('p/q/other.bin', randomBytes(10));
    expect(statSync(join(s.dir, 'store/p/q/file.bin')).mode & 0o777).toBe(0o600);
    expect(statSync(join(s.dir, 'store/p/q/other.bin')).mode & 0o777).toBe(0o600);
    expect(statSync(join(s.dir, 'store/p/q')).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(s.dir, 'store/p/q')).sort()).toEqual(['file.bin', 'other.bin']);
  });

  it('never shows a reader half a blob while it is rewritten', async () => {
    const a = Buffer.alloc(8 * 1024 * 1024, 1);
    const b = Buffer.alloc(8 * 1024 * 1024, 2);
    await s.store.put('atomic/x', a);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 10; i++) await s.store.put('atomic/x', i % 2 ? a : b);
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      const got = (await s.store.get('atomic/x'))!;
      expect(got.length).toBe(a.length);
      expect(got.equals(a) || got.equals(b)).toBe(true);
      reads++;
    }
    await writer;
    expect(reads).toBeGreaterThan(0);
  });

  it('closes its folder to others, and refuses one that is not a folder', () => {
    const open = join(s.dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    createLocalFolderStore(open);
    expect(statSync(open).mode & 0o777).toBe(0o700);
    symlinkSync(open, join(s.dir, 'link'));
    expect(() => createLocalFolderStore(join(s.dir, 'link'))).toThrow(/not a folder owned by this user/);
  });

  it('removes emptied folders on delete', async () => {
    await s.store.put('gone/deep/x', Buffer.from('x'));
    await s.store.delete('gone/deep/x');
    expect(readdirSync(join(s.dir, 'store'))).not.toContain('gone');
  });
});

describe('S3 store on MinIO: bucket and lifecycle rule', () => {
  let s: Awaited<ReturnType<typeof s3Store>>;
  beforeAll(async () => {
    s = await s3Store();
  });
  afterAll(async () => s.cleanup());

  it('creates the bucket with a rule expiring the buffer prefix after one day', async () => {
    const client = minioClient();
    try {
      const { Rules } = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: s.bucket }));
      const rule = Rules?.find((r) => r.ID === LIFECYCLE_RULE_ID);
      expect(rule).toMatchObject({ Status: 'Enabled', Expiration: { Days: 1 } });
      expect(rule?.Filter?.Prefix ?? rule?.Prefix).toBe(BUFFER_PREFIX);
    } finally {
      client.destroy();
    }
  });

  it('keeps other rules of a shared bucket and updates its own', async () => {
    const client = minioClient();
    try {
      const { Rules = [] } = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: s.bucket }));
      await client.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: s.bucket,
          LifecycleConfiguration: {
            Rules: [
              ...Rules,
              { ID: 'someone-elses', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } },
            ],
          },
        }),
      );
      // A second node starting with a longer TTL: the same bucket, the rule follows.
      const again = createS3Store({
        endpoint: minio.endpoint,
        region: 'us-east-1',
        bucket: s.bucket,
        accessKeyId: minio.accessKeyId,
        secretAccessKey: minio.secretAccessKey,
        forcePathStyle: true,
      });
      await again.ensureBucket({ prefix: BUFFER_PREFIX, expireAfterDays: 2 });
      await again.close();
      const after = (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: s.bucket }))).Rules ?? [];
      expect(after.map((r) => r.ID).sort()).toEqual([LIFECYCLE_RULE_ID, 'someone-elses'].sort());
      expect(after.find((r) => r.ID === LIFECYCLE_RULE_ID)?.Expiration?.Days).toBe(2);
    } finally {
      client.destroy();
    }
  });
});
