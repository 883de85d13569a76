import { TransformError, TransformErrorCode } from '../errors';
import type { TransformRecord } from '../expression';

/** Record batches: what every op reads and yields. */
export type Batches = AsyncIterable<TransformRecord[]>;

const rank = (v: unknown): number =>
  v === null || v === undefined
    ? 9
    : typeof v === 'boolean'
      ? 1
      : typeof v === 'number'
        ? 2
        : typeof v === 'string'
          ? 3
          : 4;

/**
 * One order for sort, min and max: booleans, then numbers, then strings (by UTF-16 code unit), then
 * anything else by its JSON text; null and missing last. `numeric`: the field holds numbers that may
 * travel as strings (canonical decimals and big integers), compared by value.
 */
export function compareValues(a: unknown, b: unknown, numeric = false): number {
  if (numeric) {
    const x = toNumberOrUndefined(a);
    const y = toNumberOrUndefined(b);
    if (x !== undefined && y !== undefined) return x < y ? -1 : x > y ? 1 : 0;
  }
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 9) return 0;
  if (ra === 4) {
    const sa = JSON.stringify(a);
    const sb = JSON.stringify(b);
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  }
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

const NUMERIC = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

export function toNumberOrUndefined(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && NUMERIC.test(v)) return Number(v);
  return undefined;
}

/** A number for sum/avg: numbers, and numeric strings (canonical decimals travel as strings). */
export function toNumber(v: unknown, field: string, record: number): number {
  const n = toNumberOrUndefined(v);
  if (n === undefined)
    throw new TransformError(
      TransformErrorCode.badRecord,
      `record ${record}: field ${field} is ${JSON.stringify(v)?.slice(0, 60)}, not a number`,
      { record, field },
    );
  return n;
}

/** The text a key's values are compared by (null and missing are the same value). */
export function keyOf(record: TransformRecord, fields: readonly string[]): string {
  if (fields.length === 1) return JSON.stringify([record[fields[0]!] ?? null]);
  return JSON.stringify(fields.map((f) => record[f] ?? null));
}

/** A join key: undefined when any part is null or missing (SQL: null never matches). */
export function joinKeyOf(record: TransformRecord, fields: readonly string[]): string | undefined {
  const parts: unknown[] = [];
  for (const f of fields) {
    const v = record[f];
    if (v === null || v === undefined) return undefined;
    parts.push(v);
  }
  return JSON.stringify(parts);
}

/** Records grouped into batches of `size`. */
export async function* rebatch(
  records: AsyncIterable<TransformRecord>,
  size: number,
): AsyncGenerator<TransformRecord[]> {
  let batch: TransformRecord[] = [];
  for await (const r of records) {
    batch.push(r);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

export function* slices<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/**
 * What a record costs in the heap, roughly and on the high side (strings counted as two bytes a
 * character, plus object and hash-table overheads): enough to bound a join's table by bytes, cheap
 * enough to call once per held record.
 */
export function approxBytes(v: unknown, depth = 0): number {
  switch (typeof v) {
    case 'string':
      return 16 + v.length * 2;
    case 'object': {
      if (v === null) return 8;
      if (depth > 8) return 256;
      let n = 32;
      if (Array.isArray(v)) for (const x of v) n += 8 + approxBytes(x, depth + 1);
      else for (const k in v) n += 16 + k.length + approxBytes((v as Record<string, unknown>)[k], depth + 1);
      return n;
    }
    default:
      return 16;
  }
}
