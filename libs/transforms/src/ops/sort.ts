import type { TransformOp } from '@vansales/definitions';
import type { TransformRecord } from '../expression';
import type { TransformLimits } from '../limits';
import type { LazySpill, SpillFile } from '../internal/spill';
import { compareValues, slices, type Batches } from '../internal/values';

type SortOp = Extract<TransformOp, { op: 'sort' }>;

export function recordComparator(by: SortOp['by'], numericFields: ReadonlySet<string>) {
  const keys = by.map((b) => ({ field: b.field, sign: b.desc ? -1 : 1, numeric: numericFields.has(b.field) }));
  return (a: TransformRecord, b: TransformRecord): number => {
    for (const k of keys) {
      const c = compareValues(a[k.field], b[k.field], k.numeric);
      if (c !== 0) return c * k.sign;
    }
    return 0;
  };
}

/**
 * Stable sort with bounded memory (external merge sort): runs of `memoryRecords` records are sorted
 * in memory and written to spill files, then merged; on a tie the earlier run wins, so equal
 * records keep their arrival order.
 */
export async function* sortRecords(
  input: Batches,
  op: SortOp,
  limits: TransformLimits,
  spill: LazySpill,
  numericFields: ReadonlySet<string>,
): AsyncGenerator<TransformRecord[]> {
  const cmp = recordComparator(op.by, numericFields);
  let buffer: TransformRecord[] = [];
  const runs: SpillFile[] = [];
  const writeRun = async () => {
    buffer.sort(cmp);
    const file = await spill.file();
    for (const r of buffer) await file.write(r);
    await file.end();
    runs.push(file);
    buffer = [];
  };
  for await (const batch of input) {
    for (const r of batch) buffer.push(r);
    if (buffer.length >= limits.memoryRecords) await writeRun();
  }
  if (runs.length === 0) {
    buffer.sort(cmp);
    yield* slices(buffer, limits.batchRecords);
    return;
  }
  if (buffer.length > 0) await writeRun();
  const readers = runs.map((f) => f.read<TransformRecord>()[Symbol.asyncIterator]());
  const heads: (TransformRecord | undefined)[] = await Promise.all(readers.map(async (it) => (await it.next()).value));
  let out: TransformRecord[] = [];
  for (;;) {
    let min = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h !== undefined && (min < 0 || cmp(h, heads[min]!) < 0)) min = i;
    }
    if (min < 0) break;
    out.push(heads[min]!);
    const next = await readers[min]!.next();
    heads[min] = next.done ? undefined : next.value;
    if (out.length >= limits.batchRecords) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}
