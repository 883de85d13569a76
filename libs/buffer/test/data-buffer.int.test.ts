import { createHash, randomBytes } from 'node:crypto';
import { gzipSync, gunzipSync } from 'node:zlib';
import { BufferErrorCode, BufferKeyring, DataBuffer, newBufferKeySpec, type BlobStore } from '@vansales/buffer';
import { storeKinds, type StoreUnderTest } from './support/stores';
import { expectCode } from './support/expect-code';

const T = 'acme';
const OTHER = 'globex';
const keys = newBufferKeySpec('k1');

/** Gzip'd NDJSON, as the data layer hands it over (the buffer does not care). */
function ndjsonChunk(from: number, rows: number): Buffer {
  const lines: string[] = [];
  for (let i = from; i < from + rows; i++)
    lines.push(JSON.stringify({ id: i, name: `customer ${i}`, pad: randomBytes(8).toString('hex') }));
  return gzipSync(lines.join('\n') + '\n');
}

const rawKeys = async (store: BlobStore, prefix: string) => {
  const out: string[] = [];
  for await (const e of store.list(prefix)) out.push(e.key);
  return out;
};

describe.each(storeKinds)('data buffer on %s', (_name, open) => {
  let s: StoreUnderTest;
  let clock: number;
  let buffer: DataBuffer;
  const make = (spec = keys, options: { maxChunkBytes?: number } = {}) =>
    new DataBuffer({ store: s.store, keyring: BufferKeyring.fromSpec(spec), now: () => clock, ...options });

  beforeEach(async () => {
    s = await open();
    clock = Date.parse('2030-01-01T00:00:00Z');
    buffer = make();
  });
  afterEach(async () => s.cleanup());

  /** A committed object of three chunks (rows 10, 0, 25). */
  async function committed(tenantId = T, objectId?: string) {
    const { objectId: id } = await buffer.createObject(tenantId, { objectId });
    const chunks = [ndjsonChunk(0, 10), Buffer.alloc(0), ndjsonChunk(10, 25)];
    const rows = [10, 0, 25];
    for (let i = 0; i < chunks.length; i++) await buffer.writeChunk(tenantId, id, i, chunks[i]!, rows[i]!);
    const manifest = await buffer.commit(tenantId, id, {
      schema: { columns: [{ name: 'id', type: 'int' }] },
      chunkCount: 3,
      rowCount: 35,
      meta: { source: 'customers' },
    });
    return { id, chunks, manifest };
  }
  const pathOf = (id: string, file: string, tenantId = T) => `buffer/${tenantId}/${id}/${file}`;
  const mutate = async (key: string, fn: (b: Buffer) => Buffer) => s.store.put(key, fn((await s.store.get(key))!));

  it('round-trips a multi-chunk object with its manifest', async () => {
    const { id, chunks, manifest } = await committed();
    expect(manifest).toMatchObject({
      tenantId: T,
      objectId: id,
      rowCount: 35,
      schema: { columns: [{ name: 'id', type: 'int' }] },
      meta: { source: 'customers' },
    });
    expect(manifest.expiresAt).toBe('2030-01-02T00:00:00.000Z');
    expect(await buffer.readManifest(T, id)).toEqual(manifest);
    expect(manifest.chunks).toEqual(
      chunks.map((c, index) => ({
        index,
        rows: [10, 0, 25][index],
        bytes: c.length,
        sha256: createHash('sha256').update(c).digest('hex'),
      })),
    );
    for (let i = 0; i < 3; i++) expect((await buffer.readChunk(T, id, i)).equals(chunks[i]!)).toBe(true);
    expect(
      gunzipSync(await buffer.readChunk(T, id, 2))
        .toString()
        .split('\n')[0],
    ).toContain('"id":10');
    await expectCode(buffer.readChunk(T, id, 3), BufferErrorCode.notFound);
  });

  it('stores nothing in the clear, with a key of its own per object', async () => {
    const marker = Buffer.from('plaintext-marker-'.repeat(100));
    const a = await buffer.createObject(T);
    const b = await buffer.createObject(T);
    await buffer.writeChunk(T, a.objectId, 0, marker, 1);
    await buffer.writeChunk(T, b.objectId, 0, marker, 1);
    const storedA = (await s.store.get(pathOf(a.objectId, 'chunk-000000.bin')))!;
    const storedB = (await s.store.get(pathOf(b.objectId, 'chunk-000000.bin')))!;
    expect(storedA.includes(Buffer.from('plaintext-marker'))).toBe(false);
    expect(storedA.subarray(100).equals(storedB.subarray(100))).toBe(false);
    await buffer.commit(T, a.objectId, { schema: { secretColumn: 'ssn' }, chunkCount: 1, rowCount: 1 });
    expect((await s.store.get(pathOf(a.objectId, 'manifest.json')))!.toString()).not.toContain('ssn');
  });

  it('lets a retried writer reuse the object and rewrite chunks, and says when it is committed', async () => {
    const first = await buffer.createObject(T, { objectId: 'retried-object-1' });
    expect(first.created).toBe(true);
    await buffer.writeChunk(T, 'retried-object-1', 0, Buffer.from('attempt one'), 1);
    clock += 5000;
    const again = await buffer.createObject(T, { objectId: 'retried-object-1', ttlSeconds: 60 });
    expect(again).toEqual({ ...first, created: false });
    await buffer.writeChunk(T, 'retried-object-1', 0, Buffer.from('attempt two'), 2);
    await buffer.writeChunk(T, 'retried-object-1', 1, Buffer.from('more'), 3);
    // An earlier attempt's extra chunk (split differently) goes away at commit.
    await buffer.writeChunk(T, 'retried-object-1', 2, Buffer.from('stale'), 9);
    const commit = { schema: ['a', 'b'], chunkCount: 2, rowCount: 5, meta: { b: 1, a: 2 } };
    const manifest = await buffer.commit(T, 'retried-object-1', commit);
    expect((await buffer.readChunk(T, 'retried-object-1', 0)).toString()).toBe('attempt two');
    expect(await rawKeys(s.store, pathOf('retried-object-1', 'chunk-000002'))).toEqual([]);

    clock += 1000;
    expect(await buffer.commit(T, 'retried-object-1', { ...commit, meta: { a: 2, b: 1 } })).toEqual(manifest);
    await expectCode(
      buffer.commit(T, 'retried-object-1', { ...commit, rowCount: 6 }),
      BufferErrorCode.alreadyCommitted,
    );
    await expectCode(
      buffer.writeChunk(T, 'retried-object-1', 0, Buffer.from('late'), 1),
      BufferErrorCode.alreadyCommitted,
    );
    await expectCode(buffer.createObject(T, { objectId: 'retried-object-1' }), BufferErrorCode.alreadyCommitted);
  });

  it('refuses a commit that does not add up, and reads of what is not committed', async () => {
    const { objectId } = await buffer.createObject(T);
    await buffer.writeChunk(T, objectId, 0, Buffer.from('a'), 1);
    await buffer.writeChunk(T, objectId, 2, Buffer.from('c'), 1);
    const missing = await expectCode(
      buffer.commit(T, objectId, { schema: {}, chunkCount: 3, rowCount: 3 }),
      BufferErrorCode.badInput,
    );
    expect(missing.message).toMatch(/chunk 1 .* was never written/);
    await buffer.writeChunk(T, objectId, 1, Buffer.from('b'), 1);
    const rows = await expectCode(
      buffer.commit(T, objectId, { schema: {}, chunkCount: 3, rowCount: 4 }),
      BufferErrorCode.badInput,
    );
    expect(rows.message).toMatch(/hold 3 rows, the commit says 4/);
    await expectCode(buffer.readManifest(T, objectId), BufferErrorCode.notCommitted);
    await expectCode(buffer.readChunk(T, objectId, 0), BufferErrorCode.notCommitted);
    await expectCode(buffer.readManifest(T, 'never-created'), BufferErrorCode.notFound);
    await expectCode(buffer.writeChunk(T, 'never-created', 0, Buffer.from('x'), 1), BufferErrorCode.notFound);
    await expectCode(
      buffer.commit(T, objectId, { schema: undefined, chunkCount: 3, rowCount: 3 }),
      BufferErrorCode.badInput,
    );
    expect((await buffer.commit(T, objectId, { schema: {}, chunkCount: 3, rowCount: 3 })).rowCount).toBe(3);
  });

  it('validates ids, indexes, row counts and sizes', async () => {
    const small = make(keys, { maxChunkBytes: 1024 });
    const { objectId } = await small.createObject(T);
    await expectCode(small.writeChunk(T, objectId, 0, Buffer.alloc(1025), 1), BufferErrorCode.tooLarge);
    await small.writeChunk(T, objectId, 0, Buffer.alloc(1024), 1);
    for (const bad of ['../../etc', 'short', 'a/b/c/d/e/f', 'has space!'])
      await expectCode(buffer.createObject(T, { objectId: bad }), BufferErrorCode.badInput);
    for (const bad of ['Acme', '../x', 'a', '']) await expectCode(buffer.createObject(bad), BufferErrorCode.badInput);
    await expectCode(buffer.writeChunk(T, objectId, -1, Buffer.from('x'), 1), BufferErrorCode.badInput);
    await expectCode(buffer.writeChunk(T, objectId, 1.5, Buffer.from('x'), 1), BufferErrorCode.badInput);
    await expectCode(buffer.writeChunk(T, objectId, 0, Buffer.from('x'), -3), BufferErrorCode.badInput);
    await expectCode(buffer.createObject(T, { ttlSeconds: 86_401 }), BufferErrorCode.badInput);
    await expectCode(
      buffer.commit(T, objectId, { schema: 'x'.repeat(1024 * 1024 + 1), chunkCount: 1, rowCount: 1 }),
      BufferErrorCode.tooLarge,
    );
  });

  describe('tampering in the store is detected', () => {
    it('a flipped byte in a chunk body or its sealed meta', async () => {
      const { id } = await committed();
      await mutate(pathOf(id, 'chunk-000002.bin'), (b) => ((b[b.length - 40]! ^= 1), b));
      await expectCode(buffer.readChunk(T, id, 2), BufferErrorCode.tampered);
      await mutate(pathOf(id, 'chunk-000000.bin'), (b) => ((b[10]! ^= 1), b));
      await expectCode(buffer.readChunk(T, id, 0), BufferErrorCode.tampered);
    });

    it("an edited expiry in the header (the manifest's associated data)", async () => {
      const { id } = await committed();
      await mutate(pathOf(id, 'header.json'), (b) =>
        Buffer.from(b.toString().replace('2030-01-02T00:00:00.000Z', '2031-01-02T00:00:00.000Z')),
      );
      await expectCode(buffer.readManifest(T, id), BufferErrorCode.tampered);
      await expectCode(buffer.readChunk(T, id, 0), BufferErrorCode.tampered);
    });

    it('an edited or forged manifest (row counts, chunk list)', async () => {
      const { id } = await committed();
      const original = (await s.store.get(pathOf(id, 'manifest.json')))!;
      const file = JSON.parse(original.toString()) as { v: 1; sealed: string };
      const sealed = Buffer.from(file.sealed, 'base64');
      sealed[40]! ^= 1;
      await s.store.put(
        pathOf(id, 'manifest.json'),
        Buffer.from(JSON.stringify({ ...file, sealed: sealed.toString('base64') })),
      );
      await expectCode(buffer.readManifest(T, id), BufferErrorCode.tampered);
      await s.store.put(
        pathOf(id, 'manifest.json'),
        Buffer.from(JSON.stringify({ v: 1, rowCount: 1_000_000, chunks: [] })),
      );
      await expectCode(buffer.readManifest(T, id), BufferErrorCode.tampered);
      // Another object's manifest, replayed here.
      const other = await committed();
      await s.store.put(pathOf(id, 'manifest.json'), (await s.store.get(pathOf(other.id, 'manifest.json')))!);
      await expectCode(buffer.readManifest(T, id), BufferErrorCode.tampered);
    });

    it('two chunks swapped, or a chunk replayed from another object or an earlier write', async () => {
      const { id } = await committed();
      const c0 = (await s.store.get(pathOf(id, 'chunk-000000.bin')))!;
      const c2 = (await s.store.get(pathOf(id, 'chunk-000002.bin')))!;
      await s.store.put(pathOf(id, 'chunk-000000.bin'), c2);
      await s.store.put(pathOf(id, 'chunk-000002.bin'), c0);
      await expectCode(buffer.readChunk(T, id, 0), BufferErrorCode.tampered);
      await expectCode(buffer.readChunk(T, id, 2), BufferErrorCode.tampered);

      const other = await committed();
      await s.store.put(pathOf(id, 'chunk-000000.bin'), (await s.store.get(pathOf(other.id, 'chunk-000000.bin')))!);
      await expectCode(buffer.readChunk(T, id, 0), BufferErrorCode.tampered);

      // Same object, same index, an earlier (valid) write of that chunk put back after the commit.
      const { objectId } = await buffer.createObject(T);
      await buffer.writeChunk(T, objectId, 0, Buffer.from('old'), 1);
      const old = (await s.store.get(pathOf(objectId, 'chunk-000000.bin')))!;
      await buffer.writeChunk(T, objectId, 0, Buffer.from('new'), 1);
      await buffer.commit(T, objectId, { schema: {}, chunkCount: 1, rowCount: 1 });
      await s.store.put(pathOf(objectId, 'chunk-000000.bin'), old);
      await expectCode(buffer.readChunk(T, objectId, 0), BufferErrorCode.tampered);
    });

    it('a truncated, deleted or extended chunk', async () => {
      const { id } = await committed();
      await mutate(pathOf(id, 'chunk-000002.bin'), (b) => b.subarray(0, b.length - 100));
      await expectCode(buffer.readChunk(T, id, 2), BufferErrorCode.truncated);
      await s.store.delete(pathOf(id, 'chunk-000001.bin'));
      await expectCode(buffer.readChunk(T, id, 1), BufferErrorCode.truncated);
      await mutate(pathOf(id, 'chunk-000000.bin'), (b) => Buffer.concat([b, Buffer.from('extra')]));
      await expectCode(buffer.readChunk(T, id, 0), BufferErrorCode.tampered);
    });

    it('a header copied from another object of the same tenant', async () => {
      const { id } = await committed();
      const other = await committed();
      await s.store.put(pathOf(id, 'header.json'), (await s.store.get(pathOf(other.id, 'header.json')))!);
      await expectCode(buffer.readManifest(T, id), BufferErrorCode.tampered);
    });
  });

  describe('tenants', () => {
    it("never reach another tenant's object, even knowing its id", async () => {
      const { id } = await committed(T);
      await expectCode(buffer.readManifest(OTHER, id), BufferErrorCode.notFound);
      await expectCode(buffer.readChunk(OTHER, id, 0), BufferErrorCode.notFound);
      await expectCode(buffer.writeChunk(OTHER, id, 0, Buffer.from('x'), 1), BufferErrorCode.notFound);
      await expectCode(buffer.deleteObject(OTHER, id), BufferErrorCode.notFound);
      // The same id in another tenant is another object.
      await buffer.createObject(OTHER, { objectId: id });
      await expectCode(buffer.readManifest(OTHER, id), BufferErrorCode.notCommitted);
      expect((await buffer.readManifest(T, id)).rowCount).toBe(35);
    });

    it('refuse an object copied into their folder in the store', async () => {
      const { id } = await committed(T);
      for (const key of await rawKeys(s.store, `buffer/${T}/${id}/`))
        await s.store.put(key.replace(`/${T}/`, `/${OTHER}/`), (await s.store.get(key))!);
      await expectCode(buffer.readManifest(OTHER, id), BufferErrorCode.wrongTenant);
      await expectCode(buffer.readChunk(OTHER, id, 0), BufferErrorCode.wrongTenant);
      // …and with the owner rewritten too: the other tenant's key cannot unwrap it.
      await mutate(pathOf(id, 'header.json', OTHER), (b) =>
        Buffer.from(b.toString().replace(`"tenantId":"${T}"`, `"tenantId":"${OTHER}"`)),
      );
      await expectCode(buffer.readManifest(OTHER, id), BufferErrorCode.tampered);
    });
  });

  describe('expiry', () => {
    it('refuses expired objects and purges them, committed or not, keeping live ones', async () => {
      const done = await committed();
      const unfinished = await buffer.createObject(T, { ttlSeconds: 3600 });
      await buffer.writeChunk(T, unfinished.objectId, 0, randomBytes(1000), 1);
      clock += 7200 * 1000;
      const live = await committed(OTHER);

      expect(await buffer.purgeExpired()).toEqual({
        objectsDeleted: 1,
        bytesFreed: expect.any(Number),
        objectsFailed: 0,
      });
      await expectCode(buffer.writeChunk(T, unfinished.objectId, 0, Buffer.from('x'), 1), BufferErrorCode.notFound);

      clock = Date.parse(done.manifest.expiresAt);
      await expectCode(buffer.readManifest(T, done.id), BufferErrorCode.expired);
      await expectCode(buffer.readChunk(T, done.id, 0), BufferErrorCode.expired);
      const purged = await buffer.purgeExpired();
      expect(purged.objectsDeleted).toBe(1);
      expect(purged.bytesFreed).toBeGreaterThan(done.chunks.reduce((n, c) => n + c.length, 0));
      await expectCode(buffer.readManifest(T, done.id), BufferErrorCode.notFound);
      expect(await rawKeys(s.store, `buffer/${T}/`)).toEqual([]);
      expect((await buffer.readManifest(OTHER, live.id)).rowCount).toBe(35);
      expect(await buffer.purgeExpired()).toEqual({ objectsDeleted: 0, bytesFreed: 0, objectsFailed: 0 });
    });

    it('purges the leftovers of an interrupted delete after a grace period', async () => {
      const { id } = await committed();
      await s.store.delete(pathOf(id, 'header.json'));
      expect((await buffer.purgeExpired(Date.now() + 30 * 60_000)).objectsDeleted).toBe(0);
      expect((await buffer.purgeExpired(Date.now() + 2 * 3600_000)).objectsDeleted).toBe(1);
      expect(await rawKeys(s.store, 'buffer/')).toEqual([]);
    });

    it('deletes an object on request', async () => {
      const { id } = await committed();
      expect((await buffer.deleteObject(T, id)).bytesFreed).toBeGreaterThan(0);
      await expectCode(buffer.readManifest(T, id), BufferErrorCode.notFound);
      await expectCode(buffer.deleteObject(T, id), BufferErrorCode.notFound);
    });
  });

  describe('master key rotation', () => {
    it('reads objects of a retired key while encrypting with the new one', async () => {
      const k1 = newBufferKeySpec('k1');
      const k2 = newBufferKeySpec('k2');
      buffer = make(k1);
      const old = await committed();
      buffer = make(`${k2},${k1}`);
      expect((await buffer.readChunk(T, old.id, 2)).equals(old.chunks[2]!)).toBe(true);
      const fresh = await committed();
      expect(JSON.parse((await s.store.get(pathOf(fresh.id, 'header.json')))!.toString()).keyId).toBe('k2');

      buffer = make(k2);
      expect((await buffer.readChunk(T, fresh.id, 0)).equals(fresh.chunks[0]!)).toBe(true);
      const err = await expectCode(buffer.readManifest(T, old.id), BufferErrorCode.keyUnavailable);
      expect(err.message).toMatch(/master key "k1", which is not in VSC_BUFFER_KEYS/);
      for (const spec of [k1, k2]) expect(err.message).not.toContain(spec.split(':')[1]!.slice(0, 12));

      // Same id, other material: not a missing key, a wrong one.
      buffer = make(newBufferKeySpec('k2'));
      await expectCode(buffer.readManifest(T, fresh.id), BufferErrorCode.tampered);
    });
  });
});
