import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeChunk, encodeChunk, type ObjectSchema } from '@vansales/dataflow';
import type { TransformOp } from '@vansales/definitions';
import {
  parseTransformLimits,
  transformObjects,
  transformObjectsInWorker,
  TransformError,
  type ObjectReader,
  type ObjectWriter,
  type TransformLimitsInput,
} from '@vansales/transforms';

const schema = (names: string[]): ObjectSchema => ({
  columns: names.map((name) => ({ name, type: { kind: 'text' }, nullable: true, nativeType: '' })),
  keyColumns: [],
});
const ORDERS = schema(['id', 'customer', 'note']);
const CUSTOMERS = schema(['customer', 'name']);

/** An object of `n` generated rows in chunks of 1,000, encoded as the buffer holds them. */
function rowsObject(s: ObjectSchema, n: number, row: (i: number) => unknown[]): ObjectReader & { reads: number } {
  const o = {
    schema: s,
    rowCount: n,
    chunkCount: Math.ceil(n / 1000),
    reads: 0,
    chunk: async (index: number) => {
      o.reads++;
      const rows: unknown[][] = [];
      for (let i = index * 1000; i < Math.min(n, (index + 1) * 1000); i++) rows.push(row(i));
      return encodeChunk(rows);
    },
  };
  return o;
}
const orders = (n: number) => rowsObject(ORDERS, n, (i) => [`o${i}`, `c${i % 700}`, `note ${i} `.repeat(3)]);
const customers = () => rowsObject(CUSTOMERS, 700, (i) => [`c${i}`, `customer ${i}`]);

function writer() {
  const chunks = new Map<number, Buffer>();
  const w: ObjectWriter & { committed?: unknown } = {
    chunk: async (index, bytes) => void chunks.set(index, bytes),
    commit: async (body) => void (w.committed = body),
  };
  return {
    w,
    rows: async () =>
      (await Promise.all([...chunks.keys()].sort((a, b) => a - b).map((i) => decodeChunk(chunks.get(i)!)))).flat(),
  };
}

const JOIN: TransformOp = { op: 'join', kind: 'inner', leftKey: ['customer'], rightKey: ['customer'] };

describe('transformObjectsInWorker (a transform in a worker thread with a capped heap)', () => {
  let spillDir: string;
  const limits = (more: TransformLimitsInput = {}) => parseTransformLimits({ spillDir, ...more });
  beforeEach(() => {
    spillDir = mkdtempSync(join(tmpdir(), 'vsc-transform-worker-test-'));
  });
  afterEach(() => rmSync(spillDir, { recursive: true, force: true }));

  it('gives what the engine gives in this thread (a spilled join, a mapping), with progress', async () => {
    for (const op of [JOIN, { op: 'map', fields: { id: 'id', who: '$uppercase(customer)' } } as TransformOp]) {
      const inThread = writer();
      const inWorker = writer();
      const progress: number[] = [];
      const inThreadProgress: number[] = [];
      const small = { memoryRecords: 200, spillPartitions: 4 };
      const want = await transformObjects(op, { left: orders(5000), right: customers() }, inThread.w, {
        limits: limits(small),
        progress: (p) => inThreadProgress.push(p.rowsIn),
      });
      const got = await transformObjectsInWorker(op, { left: orders(5000), right: customers() }, inWorker.w, {
        limits: limits(small),
        progress: (p) => progress.push(p.rowsIn),
      });
      expect(got).toEqual(want);
      expect(await inWorker.rows()).toEqual(await inThread.rows());
      expect(inWorker.w.committed).toEqual(inThread.w.committed);
      expect(progress.at(-1)).toBe(inThreadProgress.at(-1));
      expect(progress.at(-1)).toBeGreaterThanOrEqual(5000);
    }
    expect(readdirSync(spillDir)).toEqual([]);
  });

  it("brings back the engine's error with its code, record and field, and the host's own error as thrown", async () => {
    await expect(
      transformObjectsInWorker({ op: 'map', fields: { n: '$uppercase(1)' } }, { left: orders(10) }, writer().w, {
        limits: limits(),
      }),
    ).rejects.toMatchObject({ name: 'TransformError', code: 'BAD_RECORD', details: { record: 1, field: 'n' } });

    class StoreDown extends Error {}
    const down = new StoreDown('the store is down');
    const failing = {
      ...orders(5000),
      chunk: async (i: number) => (i < 2 ? orders(5000).chunk(i) : Promise.reject(down)),
    };
    await expect(
      transformObjectsInWorker({ op: 'filter', where: 'true' }, { left: failing }, writer().w, { limits: limits() }),
    ).rejects.toBe(down);
  });

  it('ends a transform past its heap as MEMORY_LIMIT, removes its spill files, and the host runs the next one', async () => {
    // An aggregate told never to spill, over 400,000 distinct groups, in a 16 MB heap.
    const many = rowsObject(ORDERS, 400_000, (i) => [`o${i}`, `c${i}`, `a longer note for row ${i}`]);
    const err = await transformObjectsInWorker(
      { op: 'aggregate', groupBy: ['id'], measures: { notes: { fn: 'max', field: 'note' } } },
      { left: many },
      writer().w,
      { limits: limits({ workerHeapMb: 16, workerYoungMb: 2, memoryRecords: 10_000_000 }) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransformError);
    expect(err).toMatchObject({ code: 'MEMORY_LIMIT', message: expect.stringMatching(/memory limit.*16 MB/) });
    expect(readdirSync(spillDir)).toEqual([]);

    // The retry, with the default limits (which spill), on the same host.
    const out = writer();
    const again = await transformObjectsInWorker(
      { op: 'aggregate', groupBy: ['customer'], measures: { n: { fn: 'count' } } },
      { left: orders(3000) },
      out.w,
      { limits: limits() },
    );
    expect(again.rows).toBe(700);
  });

  it('terminates the worker when cancelled, mid-read, and removes its spill folder', async () => {
    const controller = new AbortController();
    const left = orders(5000);
    // The third chunk never comes: only cancelling ends this transform.
    const stuck = {
      ...left,
      chunk: (i: number) => {
        if (i === 2) controller.abort(new Error('step cancelled'));
        return i < 2 ? left.chunk(i) : new Promise<Buffer>(() => undefined);
      },
    };
    await expect(
      transformObjectsInWorker(JOIN, { left: stuck, right: customers() }, writer().w, {
        limits: limits({ memoryRecords: 100, spillPartitions: 4 }),
        signal: controller.signal,
      }),
    ).rejects.toThrow('step cancelled');
    expect(readdirSync(spillDir)).toEqual([]);
  });
});
