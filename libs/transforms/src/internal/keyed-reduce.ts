import type { TransformRecord } from '../expression';
import type { TransformLimits } from '../limits';
import { partitionOf, type LazySpill, type SpillFile } from './spill';
import { slices, type Batches } from './values';

/** Folding records by key into mergeable states: what dedupe and aggregate share. */
export interface Reducer<S> {
  key(record: TransformRecord): string;
  init(record: TransformRecord, seq: number): S;
  add(state: S, record: TransformRecord, seq: number): void;
  /** Two states of one key, from different spill rounds (a came first). */
  merge(a: S, b: S): S;
  /** Output order: arrival of the group (or of the kept record). */
  order(state: S): number;
  finish(state: S): TransformRecord;
}

/**
 * Holds at most `memoryRecords` keys. When there are more, every state goes to one of
 * `spillPartitions` files by the hash of its key and the table starts empty again; at the end each
 * partition is merged on its own, so memory holds one partition's keys at a time.
 */
export async function* keyedReduce<S>(
  input: Batches,
  reducer: Reducer<S>,
  limits: TransformLimits,
  spill: LazySpill,
): AsyncGenerator<TransformRecord[]> {
  let table = new Map<string, S>();
  let partitions: SpillFile[] | undefined;
  let seq = 0;
  const flush = async () => {
    partitions ??= await Promise.all(Array.from({ length: limits.spillPartitions }, () => spill.file()));
    for (const [key, state] of table) await partitions[partitionOf(key, partitions.length)]!.write([key, state]);
    table = new Map();
  };
  for await (const batch of input) {
    for (const record of batch) {
      const key = reducer.key(record);
      const state = table.get(key);
      if (state === undefined) table.set(key, reducer.init(record, seq));
      else reducer.add(state, record, seq);
      seq++;
    }
    if (table.size >= limits.memoryRecords) await flush();
  }
  const emit = function* (states: Iterable<S>) {
    const ordered = [...states].sort((a, b) => reducer.order(a) - reducer.order(b));
    for (const part of slices(ordered, limits.batchRecords)) yield part.map((s) => reducer.finish(s));
  };
  if (!partitions) {
    yield* emit(table.values());
    return;
  }
  await flush();
  for (const file of partitions) await file.end();
  for (const file of partitions) {
    const merged = new Map<string, S>();
    for await (const [key, state] of file.read<[string, S]>()) {
      const seen = merged.get(key);
      merged.set(key, seen === undefined ? state : reducer.merge(seen, state));
    }
    yield* emit(merged.values());
  }
}
