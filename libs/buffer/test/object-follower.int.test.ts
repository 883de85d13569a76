import { randomBytes } from 'node:crypto';
import {
  BufferError,
  BufferErrorCode,
  BufferKeyring,
  DataBuffer,
  newBufferKeySpec,
  type FollowedChunk,
  type FollowOptions,
} from '@vansales/buffer';
import { storeKinds, type StoreUnderTest } from './support/stores';
import { expectCode } from './support/expect-code';

const T = 'acme';

/** Polls a condition (never a fixed wait): resolves when it holds, fails after `ms`. */
async function waitFor(what: string, check: () => Promise<boolean>, ms: number, everyMs: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe.each(storeKinds)('following an object being written, on %s', (_name, open) => {
  let s: StoreUnderTest;
  let clock: number;
  let buffer: DataBuffer;

  beforeEach(async () => {
    s = await open();
    clock = Date.parse('2030-01-01T00:00:00Z');
    buffer = new DataBuffer({
      store: s.store,
      keyring: BufferKeyring.fromSpec(newBufferKeySpec('k1')),
      now: () => clock,
    });
  });
  afterEach(async () => s.cleanup());

  const pathOf = (id: string, file: string) => `buffer/${T}/${id}/${file}`;
  const chunkFile = (i: number) => `chunk-${String(i).padStart(6, '0')}.bin`;

  /** A follower stepped by hand, counting its waits, so a test sees it wait without sleeping itself. */
  function follow(objectId: string, options: FollowOptions = {}) {
    let waits = 0;
    const follower = buffer.followObject(T, objectId, { pollMs: 5, maxPollMs: 20, ...options, onWait: () => waits++ });
    const iterator = follower[Symbol.asyncIterator]();
    return {
      follower,
      next: () => iterator.next(),
      /** Resolves once the follower has looked and found nothing new `n` more times. */
      waitedAgain: async (n = 2) => {
        const from = waits;
        await waitFor('the follower to wait', async () => waits >= from + n, 10_000, 5);
      },
    };
  }
  const chunk = (r: IteratorResult<FollowedChunk>) => (r.done ? undefined : r.value);

  it('yields each chunk once it is stored, before the commit, and ends with the sealed manifest', async () => {
    const { objectId } = await buffer.createObject(T);
    const chunks = [randomBytes(3000), Buffer.alloc(0), randomBytes(5000)];
    const f = follow(objectId);

    let settled = false;
    const first = f.next().then((r) => ((settled = true), r));
    await f.waitedAgain();
    expect(settled).toBe(false);
    await buffer.writeChunk(T, objectId, 0, chunks[0]!, 10);
    expect(chunk(await first)).toEqual({ index: 0, rows: 10, bytes: chunks[0] });

    await buffer.writeChunk(T, objectId, 1, chunks[1]!, 0);
    expect(chunk(await f.next())).toEqual({ index: 1, rows: 0, bytes: chunks[1] });
    const third = f.next();
    await f.waitedAgain();
    // Chunk 2 lands only with the commit: the rest is read against the manifest.
    await buffer.writeChunk(T, objectId, 2, chunks[2]!, 25);
    expect(chunk(await third)).toEqual({ index: 2, rows: 25, bytes: chunks[2] });

    const end = f.next();
    await f.waitedAgain();
    expect(f.follower.manifest).toBeUndefined();
    const manifest = await buffer.commit(T, objectId, { schema: { v: 1 }, chunkCount: 3, rowCount: 35 });
    expect((await end).done).toBe(true);
    expect(f.follower.manifest).toEqual(manifest);
  });

  it('reads a committed object like readChunk, from any chunk on', async () => {
    const { objectId } = await buffer.createObject(T);
    const chunks = [randomBytes(100), randomBytes(200), randomBytes(300)];
    for (let i = 0; i < 3; i++) await buffer.writeChunk(T, objectId, i, chunks[i]!, i + 1);
    const manifest = await buffer.commit(T, objectId, { schema: {}, chunkCount: 3, rowCount: 6 });
    const got: FollowedChunk[] = [];
    const follower = buffer.followObject(T, objectId, { fromChunk: 1 });
    for await (const c of follower) got.push(c);
    expect(got).toEqual([
      { index: 1, rows: 2, bytes: chunks[1] },
      { index: 2, rows: 3, bytes: chunks[2] },
    ]);
    expect(follower.manifest).toEqual(manifest);
    // Read once: a second iteration is a caller's bug.
    await expect(follower[Symbol.asyncIterator]().next()).rejects.toThrow(/read once/);
  });

  it('waits for an object not created yet only when asked to, then follows it', async () => {
    await expectCode(follow('not-there-yet-1').next(), BufferErrorCode.notFound);
    await expectCode(follow('not-there-yet-2', { createTimeoutMs: 30 }).next(), BufferErrorCode.notFound);

    const f = follow('created-later-1', { createTimeoutMs: 60_000 });
    const first = f.next();
    await f.waitedAgain();
    await buffer.createObject(T, { objectId: 'created-later-1' });
    await buffer.writeChunk(T, 'created-later-1', 0, Buffer.from('rows'), 1);
    expect(chunk(await first)?.bytes.toString()).toBe('rows');
  });

  it('hands out the schema the writer published before any chunk; the commit and the manifest must repeat it', async () => {
    const { objectId } = await buffer.createObject(T);
    const f = follow(objectId);
    const schema = f.follower.schema();
    await f.waitedAgain();
    const columns = { columns: [{ name: 'id', type: 'bigint' }] };
    await buffer.publishSchema(T, objectId, columns);
    expect(await schema).toEqual(columns);
    // A retried writer publishes the same schema again; another one is refused, at publish and at commit.
    await buffer.publishSchema(T, objectId, { columns: [{ type: 'bigint', name: 'id' }] });
    await expectCode(buffer.publishSchema(T, objectId, { columns: [] }), BufferErrorCode.badInput);
    await buffer.writeChunk(T, objectId, 0, Buffer.from('rows'), 2);
    expect(chunk(await f.next())?.rows).toBe(2);
    await expectCode(
      buffer.commit(T, objectId, { schema: { columns: [] }, chunkCount: 1, rowCount: 2 }),
      BufferErrorCode.badInput,
    );
    const manifest = await buffer.commit(T, objectId, { schema: columns, chunkCount: 1, rowCount: 2 });
    expect((await f.next()).done).toBe(true);
    expect(f.follower.manifest).toEqual(manifest);
    await expectCode(buffer.publishSchema(T, objectId, columns), BufferErrorCode.alreadyCommitted);

    // Without an early schema, the manifest's.
    const plain = await buffer.createObject(T);
    await buffer.commit(T, plain.objectId, { schema: { from: 'manifest' }, chunkCount: 0, rowCount: 0 });
    expect(await buffer.followObject(T, plain.objectId).schema()).toEqual({ from: 'manifest' });
  });

  describe('refuses tampering as a reader of a committed object does', () => {
    it('a flipped byte, a chunk moved to another index, a chunk of another object, a cut chunk', async () => {
      const { objectId } = await buffer.createObject(T);
      await buffer.writeChunk(T, objectId, 0, randomBytes(500), 1);
      const c0 = (await s.store.get(pathOf(objectId, chunkFile(0))))!;

      const flipped = Buffer.from(c0);
      flipped[flipped.length - 30]! ^= 1;
      await s.store.put(pathOf(objectId, chunkFile(1)), flipped);
      await expectCode(follow(objectId, { fromChunk: 1 }).next(), BufferErrorCode.tampered);

      // A valid chunk 0, put where chunk 1 belongs: its sealed position says 0.
      await s.store.put(pathOf(objectId, chunkFile(1)), c0);
      await expectCode(follow(objectId, { fromChunk: 1 }).next(), BufferErrorCode.tampered);

      const other = await buffer.createObject(T);
      await buffer.writeChunk(T, other.objectId, 1, randomBytes(500), 1);
      await s.store.put(pathOf(objectId, chunkFile(1)), (await s.store.get(pathOf(other.objectId, chunkFile(1))))!);
      await expectCode(follow(objectId, { fromChunk: 1 }).next(), BufferErrorCode.tampered);

      await s.store.put(pathOf(objectId, chunkFile(0)), c0.subarray(0, c0.length - 10));
      await expectCode(follow(objectId).next(), BufferErrorCode.truncated);
      await s.store.put(pathOf(objectId, chunkFile(0)), Buffer.concat([c0, Buffer.from('x')]));
      await expectCode(follow(objectId).next(), BufferErrorCode.tampered);
    });

    it('a chunk written again after it was read, or read past what the commit kept', async () => {
      const { objectId } = await buffer.createObject(T, { objectId: 'rewritten-1' });
      await buffer.writeChunk(T, objectId, 0, Buffer.from('first attempt'), 1);
      const f = follow(objectId);
      expect(chunk(await f.next())?.bytes.toString()).toBe('first attempt');
      // A retried writer stores chunk 0 again with other rows, and commits.
      await buffer.writeChunk(T, objectId, 0, Buffer.from('second attempt'), 1);
      await buffer.commit(T, objectId, { schema: {}, chunkCount: 1, rowCount: 1 });
      const err = await expectCode(f.next(), BufferErrorCode.tampered);
      expect(err.message).toMatch(/chunk 0 .*written again after it was read/);
      expect(f.follower.manifest).toBeUndefined();

      const { objectId: id2 } = await buffer.createObject(T, { objectId: 'split-differently-1' });
      await buffer.writeChunk(T, id2, 0, Buffer.from('a'), 1);
      await buffer.writeChunk(T, id2, 1, Buffer.from('b'), 1);
      const g = follow(id2);
      await g.next();
      await g.next();
      // The commit keeps one chunk (and deletes chunk 1, which the follower already handed out).
      await buffer.commit(T, id2, { schema: {}, chunkCount: 1, rowCount: 1 });
      await expectCode(g.next(), BufferErrorCode.tampered);
    });

    it('a published schema changed in the store, or one of another object', async () => {
      const { objectId } = await buffer.createObject(T);
      await buffer.publishSchema(T, objectId, { columns: ['a'] });
      const stored = (await s.store.get(pathOf(objectId, 'schema.json')))!;
      const flipped = Buffer.from(stored);
      flipped[flipped.length - 5]! ^= 1;
      await s.store.put(pathOf(objectId, 'schema.json'), flipped);
      await expectCode(follow(objectId).follower.schema(), BufferErrorCode.tampered);

      const other = await buffer.createObject(T);
      await buffer.publishSchema(T, other.objectId, { columns: ['b'] });
      await s.store.put(pathOf(objectId, 'schema.json'), (await s.store.get(pathOf(other.objectId, 'schema.json')))!);
      await expectCode(follow(objectId).follower.schema(), BufferErrorCode.tampered);
    });

    it('a forged manifest, or a header changed while following', async () => {
      const { objectId } = await buffer.createObject(T);
      await buffer.writeChunk(T, objectId, 0, Buffer.from('x'), 1);
      const f = follow(objectId);
      await f.next();
      await s.store.put(
        pathOf(objectId, 'manifest.json'),
        Buffer.from(JSON.stringify({ v: 1, sealed: Buffer.from('forged').toString('base64') })),
      );
      await expectCode(f.next(), BufferErrorCode.tampered);

      const other = await buffer.createObject(T);
      await buffer.writeChunk(T, other.objectId, 0, Buffer.from('y'), 1);
      const g = follow(other.objectId);
      await g.next();
      const header = (await s.store.get(pathOf(other.objectId, 'header.json')))!;
      await buffer.commit(T, other.objectId, { schema: {}, chunkCount: 1, rowCount: 1 });
      await s.store.put(
        pathOf(other.objectId, 'header.json'),
        Buffer.from(header.toString().replace('"v":1', '"v":1 ')),
      );
      await expectCode(g.next(), BufferErrorCode.tampered);
    });
  });

  it('stops when aborted, and when the object expires while it waits', async () => {
    const { objectId } = await buffer.createObject(T, { ttlSeconds: 60 });
    const controller = new AbortController();
    const f = follow(objectId, { signal: controller.signal });
    const first = f.next();
    await f.waitedAgain();
    controller.abort(new Error('load cancelled'));
    await expect(first).rejects.toThrow('load cancelled');

    const g = follow(objectId);
    const waiting = g.next();
    await g.waitedAgain();
    clock += 61_000;
    const err = await expectCode(waiting, BufferErrorCode.expired);
    expect(err).toBeInstanceOf(BufferError);
  });
});
