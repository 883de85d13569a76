import { decodeChunk, encodeChunk, type ObjectSchema } from '@vansales/dataflow';
import {
  parseTransformLimits,
  transformObjects,
  TransformError,
  type ObjectReader,
  type ObjectWriter,
} from '@vansales/transforms';

/** An object held in memory, in the buffer's chunk encoding (what the cloud and the agent read). */
async function reader(schema: ObjectSchema, chunks: unknown[][][]): Promise<ObjectReader> {
  const encoded = await Promise.all(chunks.map((rows) => encodeChunk(rows)));
  return {
    schema,
    rowCount: chunks.reduce((n, c) => n + c.length, 0),
    chunkCount: chunks.length,
    chunk: async (i) => encoded[i]!,
  };
}

function writer() {
  const chunks = new Map<number, Buffer>();
  let committed: { schema: ObjectSchema; chunkCount: number; rowCount: number } | undefined;
  let opened = 0;
  const w: ObjectWriter = {
    open: async () => void opened++,
    chunk: async (index, bytes) => void chunks.set(index, bytes),
    commit: async (body) => void (committed = body),
  };
  return {
    w,
    opened: () => opened,
    committed: () => committed,
    rows: async () => (await Promise.all([...chunks.keys()].sort().map((i) => decodeChunk(chunks.get(i)!)))).flat(),
  };
}

const sales: ObjectSchema = {
  columns: [
    { name: 'id', type: { kind: 'integer', bits: 32 }, nullable: false, nativeType: 'int' },
    { name: 'region', type: { kind: 'text' }, nullable: false, nativeType: 'text' },
    { name: 'amount', type: { kind: 'integer', bits: 32 }, nullable: false, nativeType: 'int' },
  ],
  keyColumns: ['id'],
};
const limits = parseTransformLimits({});

describe('transformObjects (the transform over buffer objects that cloud and agent share)', () => {
  it('aggregates chunks of an object into an output object with its schema and progress', async () => {
    const input = await reader(sales, [
      [
        [1, 'north', 10],
        [2, 'south', 5],
      ],
      [[3, 'north', 7]],
    ]);
    const out = writer();
    const progress: number[] = [];
    const result = await transformObjects(
      { op: 'aggregate', groupBy: ['region'], measures: { n: { fn: 'count' }, total: { fn: 'sum', field: 'amount' } } },
      { left: input },
      out.w,
      { limits, progress: (p) => progress.push(p.rowsIn) },
    );
    expect(result).toEqual({ rows: 2, columns: ['region', 'n', 'total'] });
    expect((await out.rows()).sort()).toEqual([
      ['north', 2, 17],
      ['south', 1, 5],
    ]);
    expect(out.opened()).toBe(1);
    expect(out.committed()).toMatchObject({ chunkCount: 1, rowCount: 2, schema: { keyColumns: ['region'] } });
    expect(out.committed()!.schema.columns.map((c) => [c.name, c.type.kind])).toEqual([
      ['region', 'text'],
      ['n', 'integer'],
      ['total', 'float'],
    ]);
    expect(progress.at(-1)).toBe(3);
  });

  it("learns a script's fields from its records (spilled first), and refuses a join without its right input", async () => {
    const out = writer();
    const result = await transformObjects(
      { op: 'script', source: 'function transform(r) { return [{ id: r.id, big: r.amount > 6 }]; }' },
      { left: await reader(sales, [[[1, 'north', 10]], [[2, 'south', 5]]]) },
      out.w,
      { limits },
    );
    expect(result).toEqual({ rows: 2, columns: ['id', 'big'] });
    expect(await out.rows()).toEqual([
      [1, true],
      [2, false],
    ]);
    await expect(
      transformObjects(
        { op: 'join', kind: 'inner', leftKey: ['id'], rightKey: ['id'] },
        { left: await reader(sales, []) },
        writer().w,
        {
          limits,
        },
      ),
    ).rejects.toBeInstanceOf(TransformError);
  });
});
