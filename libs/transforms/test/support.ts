import type { Batches, TransformRecord } from '@vansales/transforms';

/** Records as batches of `size`, the way the activity feeds chunks. */
export async function* batchesOf(records: TransformRecord[], size = 1000): Batches {
  for (let i = 0; i < records.length; i += size) yield records.slice(i, i + size);
}

export async function collect(batches: AsyncIterable<TransformRecord[]>): Promise<TransformRecord[]> {
  const out: TransformRecord[] = [];
  for await (const b of batches) out.push(...b);
  return out;
}

/** Deterministic pseudo-random records with the shapes a mapping meets: numbers, strings, nulls, missing fields, nested objects, arrays. */
export function sampleRecords(n: number, seed = 1): TransformRecord[] {
  let s = seed;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const out: TransformRecord[] = [];
  for (let i = 0; i < n; i++) {
    const r: TransformRecord = {
      id: i,
      qty: pick([0, 1, 2, 3, 7, -4, 10.5, null]),
      price: pick([0.1, 0.2, 1.25, 99.99, 1e21, -3, 1 / 3]),
      name: pick(['', 'ana', 'Bob', 'zoë', '10', 'a"b']),
      city: pick(['Porto', 'Lisboa', null, 'Faro']),
      active: pick([true, false, null]),
      nested: pick([{ a: 1, b: 'x' }, { a: null }, null, { a: [1, 2] }]),
    };
    // Shapes outside the compiled subset: the compiled path must hand these to JSONata.
    if (rand() < 0.1) r.qty = pick([[1, 2], { n: 1 }, 'x', true]);
    if (rand() < 0.1) r.name = pick([5, ['a', 'b'], { x: 1 }, true]);
    if (rand() < 0.1) delete r.price;
    out.push(r);
  }
  return out;
}
