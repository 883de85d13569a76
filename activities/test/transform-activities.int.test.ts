import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import {
  BUFFER_PREFIX,
  BufferKeyring,
  DataBuffer,
  createLocalFolderStore,
  createS3Store,
  newBufferKeySpec,
  newObjectId,
  type BlobStore,
} from '@vansales/buffer';
import { decodeChunk, encodeChunk, parseObjectSchema, type ColumnSpec } from '@vansales/dataflow';
import type { DatasetRef, TransformOp } from '@vansales/definitions';
import { createTransformActivities } from '@vansales/activities/cloud';
import type { TransformLimitsInput } from '@vansales/transforms';
import { testServices } from '@vansales/test-kit';

const minio = testServices().minio;

interface Store {
  store: BlobStore;
  cleanup(): Promise<void>;
}

function localStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-transform-store-'));
  return {
    store: createLocalFolderStore(join(dir, 'store')),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function minioStore(): Promise<Store> {
  const bucket = `vsc-transform-test-${randomBytes(5).toString('hex')}`;
  const options = {
    endpoint: minio.endpoint,
    region: 'us-east-1',
    accessKeyId: minio.accessKeyId,
    secretAccessKey: minio.secretAccessKey,
    forcePathStyle: true,
  };
  const store = createS3Store({ ...options, bucket });
  await store.ensureBucket({ prefix: BUFFER_PREFIX, expireAfterDays: 1 });
  return {
    store,
    async cleanup() {
      const keys: string[] = [];
      for await (const e of store.list('')) keys.push(e.key);
      await store.deleteMany(keys);
      const client = new S3Client({
        ...options,
        credentials: { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey },
      });
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
      client.destroy();
      await store.close();
    },
  };
}

const col = (name: string, type: ColumnSpec['type'], nullable = true): ColumnSpec => ({
  name,
  type,
  nullable,
  nativeType: '',
});
const ORDER_COLUMNS = [
  col('id', { kind: 'integer', bits: 32 }, false),
  col('customer', { kind: 'integer', bits: 32 }),
  col('amount', { kind: 'decimal', precision: 10, scale: 2 }),
  col('city', { kind: 'text', maxLength: 40 }),
];
const CUSTOMER_COLUMNS = [
  col('customer', { kind: 'integer', bits: 32 }, false),
  col('name', { kind: 'text' }),
  col('__proto__', { kind: 'text' }),
];
const orders = Array.from({ length: 2500 }, (_, i) => [
  i,
  i % 40,
  (((i * 37) % 10000) / 100).toFixed(2),
  ['Porto', 'Lisboa', null][i % 3],
]);
const customers = Array.from({ length: 30 }, (_, i) => [i, `customer ${i}`, 'not a prototype']);

async function writeObject(
  buffer: DataBuffer,
  tenantId: string,
  columns: ColumnSpec[],
  rows: unknown[][],
  perChunk = 1000,
): Promise<DatasetRef> {
  const objectId = newObjectId();
  await buffer.createObject(tenantId, { objectId });
  let chunks = 0;
  for (let i = 0; i < rows.length; i += perChunk) {
    const part = rows.slice(i, i + perChunk);
    await buffer.writeChunk(tenantId, objectId, chunks++, await encodeChunk(part), part.length);
  }
  await buffer.commit(tenantId, objectId, {
    schema: { columns, keyColumns: [columns[0]!.name] },
    chunkCount: chunks,
    rowCount: rows.length,
  });
  return { objectId, rows: rows.length, columns: columns.map((c) => c.name), writtenBy: 'cloud' };
}

async function readObject(buffer: DataBuffer, tenantId: string, objectId: string) {
  const manifest = await buffer.readManifest(tenantId, objectId);
  const schema = parseObjectSchema(manifest.schema, objectId);
  const rows: unknown[][] = [];
  for (let i = 0; i < manifest.chunks.length; i++)
    rows.push(...(await decodeChunk(await buffer.readChunk(tenantId, objectId, i))));
  const names = schema.columns.map((c) => c.name);
  return { schema, records: rows.map((r) => Object.fromEntries(names.map((n, i) => [n, r[i]]))) };
}

describe.each([
  ['local folder', async () => localStore()],
  ['S3 (MinIO)', minioStore],
] as const)('transformDataset over the buffer: %s', (_name, open) => {
  let s: Store;
  let buffer: DataBuffer;
  let spillDir: string;
  let left: DatasetRef;
  let right: DatasetRef;
  const tenantId = 'acme';
  const activities = (more: TransformLimitsInput = {}) =>
    createTransformActivities({ buffer, limits: { memoryRecords: 500, spillPartitions: 4, spillDir, ...more } });
  const run = async (
    transform: TransformOp,
    inputs: { left: DatasetRef; right?: DatasetRef },
    outputObjectId = newObjectId(),
    tenant = tenantId,
    limits: TransformLimitsInput = {},
  ) => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const ref = (await env.run(activities(limits).transformDataset, {
      tenantId: tenant,
      transform,
      inputs,
      outputObjectId,
    })) as DatasetRef;
    return { ref, beats };
  };

  beforeAll(async () => {
    s = await open();
    spillDir = mkdtempSync(join(tmpdir(), 'vsc-transform-spill-'));
    buffer = new DataBuffer({ store: s.store, keyring: BufferKeyring.fromSpec(newBufferKeySpec('transform-test')) });
    left = await writeObject(buffer, tenantId, ORDER_COLUMNS, orders);
    right = await writeObject(buffer, tenantId, CUSTOMER_COLUMNS, customers);
  });
  afterAll(async () => {
    await s.cleanup();
    rmSync(spillDir, { recursive: true, force: true });
  });

  it('maps chunk by chunk, heartbeats, and writes an object whose schema carries the column types', async () => {
    const { ref, beats } = await run(
      {
        op: 'map',
        fields: { id: 'id', amount: 'amount', label: '$string(customer) & "/" & city', big: 'id > 2000' },
      },
      { left },
    );
    expect(ref).toMatchObject({ rows: 2500, columns: ['id', 'amount', 'label', 'big'], writtenBy: 'cloud' });
    expect(beats.length).toBeGreaterThan(1);
    const out = await readObject(buffer, tenantId, ref.objectId);
    expect(out.records[3]).toEqual({ id: 3, amount: orders[3]![2], label: '3/Porto', big: false });
    expect(out.schema.columns.map((c) => c.type.kind)).toEqual(['integer', 'decimal', 'text', 'boolean']);
  });

  it('joins two objects (a spilled grace hash join here) and aggregates with decimals read as numbers', async () => {
    const joined = await run(
      { op: 'join', kind: 'inner', leftKey: ['customer'], rightKey: ['customer'] },
      { left, right },
    );
    const rows = (await readObject(buffer, tenantId, joined.ref.objectId)).records;
    expect(rows.length).toBe(orders.filter((o) => (o[1] as number) < 30).length);
    expect(rows.find((r) => r.id === 45)).toMatchObject({
      id: 45,
      customer: 5,
      name: 'customer 5',
      __proto__: 'not a prototype',
    });

    const agg = await run(
      {
        op: 'aggregate',
        groupBy: ['city'],
        measures: { n: { fn: 'count' }, total: { fn: 'sum', field: 'amount' }, top: { fn: 'max', field: 'amount' } },
      },
      { left },
    );
    const groups = (await readObject(buffer, tenantId, agg.ref.objectId)).records;
    const porto = orders.filter((o) => o[3] === 'Porto');
    expect(groups.find((g) => g.city === 'Porto')).toEqual({
      city: 'Porto',
      n: porto.length,
      total: porto.reduce((t, o) => t + Number(o[2]), 0),
      top: porto.map((o) => o[2] as string).sort((a, b) => Number(b) - Number(a))[0],
    });
    expect(readdirSync(spillDir)).toEqual([]);
  });

  it('runs a script and types the columns from what it returned', async () => {
    const { ref } = await run(
      {
        op: 'script',
        source:
          'function transform(r) { return r.id % 500 === 0 ? { id: r.id, twice: r.id * 2, tag: "t" + r.id } : null; }',
      },
      { left },
    );
    const out = await readObject(buffer, tenantId, ref.objectId);
    expect(out.records).toEqual([0, 500, 1000, 1500, 2000].map((id) => ({ id, twice: id * 2, tag: `t${id}` })));
    expect(out.schema.columns.map((c) => c.type.kind)).toEqual(['integer', 'integer', 'text']);
  });

  it('a retry with the same output id returns the committed object', async () => {
    const outputObjectId = newObjectId();
    const first = await run({ op: 'filter', where: 'city = "Lisboa"' }, { left }, outputObjectId);
    const again = await run({ op: 'filter', where: 'city = "Lisboa"' }, { left }, outputObjectId);
    expect(again.ref).toEqual(first.ref);
    expect(first.ref.rows).toBe(orders.filter((o) => o[3] === 'Lisboa').length);
  });

  it('fails a transform past its heap as TransformMemoryLimit, leaves no spill files, and its retry works', async () => {
    const outputObjectId = newObjectId();
    // A 5M-item range per record: far past a 16 MB heap.
    const err = await run(
      { op: 'map', fields: { id: 'id', n: '$count([1..5000000])' } },
      { left },
      outputObjectId,
      tenantId,
      { workerHeapMb: 16, workerYoungMb: 2 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'TransformMemoryLimit', nonRetryable: true });
    expect((err as Error).message).toMatch(/memory limit \(a heap of 16 MB\).*workerHeapMb/);
    expect(readdirSync(spillDir)).toEqual([]);
    // The step retried (by the run's retry from this step, with a heap that fits) writes the same object.
    const retried = await run({ op: 'map', fields: { id: 'id', n: '$count([1..50])' } }, { left }, outputObjectId);
    expect(retried.ref).toMatchObject({ objectId: outputObjectId, rows: 2500 });
    expect((await readObject(buffer, tenantId, outputObjectId)).records[0]).toEqual({ id: 0, n: 50 });
  });

  it("refuses another tenant's object", async () => {
    const theirs = await writeObject(buffer, 'globex', ORDER_COLUMNS, orders.slice(0, 10));
    const err = await run({ op: 'filter', where: 'true' }, { left: theirs }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'BufferRefused', nonRetryable: true });
  });

  it('fails a bad record without retry, naming the record and field', async () => {
    const err = await run({ op: 'map', fields: { x: 'amount * 2' } }, { left }).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'TransformBadRecord', nonRetryable: true });
    expect((err as Error).message).toMatch(/record 1, field x/);
  });
});
