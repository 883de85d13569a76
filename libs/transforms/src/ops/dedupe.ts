import type { TransformOp } from '@vansales/definitions';
import type { TransformRecord } from '../expression';
import type { TransformLimits } from '../limits';
import { keyedReduce, type Reducer } from '../internal/keyed-reduce';
import type { LazySpill } from '../internal/spill';
import { compareValues, keyOf, type Batches } from '../internal/values';

type DedupeOp = Extract<TransformOp, { op: 'dedupe' }>;
/** [seq of the kept record, the record, its orderBy value]. */
type State = [number, TransformRecord, unknown];

/**
 * One record per key: the first, the last, or (orderBy) the one with the largest orderBy value
 * (the later one on a tie). Output in the order the kept records arrived (per partition when spilled).
 */
export function dedupe(
  input: Batches,
  op: DedupeOp,
  limits: TransformLimits,
  spill: LazySpill,
  numericFields: ReadonlySet<string>,
): AsyncGenerator<TransformRecord[]> {
  const keep = op.keep ?? 'last';
  const by = op.orderBy;
  const numeric = by !== undefined && numericFields.has(by);
  /** Does b (later) replace a? */
  const wins = (a: State, b: State): boolean => {
    if (by !== undefined) {
      const c = compareValues(b[2] ?? null, a[2] ?? null, numeric);
      // Missing values sort last in compareValues: a missing orderBy never beats a present one.
      if (c !== 0) return (b[2] ?? null) !== null && ((a[2] ?? null) === null || c > 0);
      return b[0] > a[0];
    }
    return keep === 'last' ? b[0] > a[0] : b[0] < a[0];
  };
  const reducer: Reducer<State> = {
    key: (r) => keyOf(r, op.key),
    init: (r, seq) => [seq, r, by === undefined ? undefined : r[by]],
    add(state, r, seq) {
      const next: State = [seq, r, by === undefined ? undefined : r[by]];
      if (wins(state, next)) {
        state[0] = next[0];
        state[1] = next[1];
        state[2] = next[2];
      }
    },
    merge: (a, b) => (wins(a, b) ? b : a),
    order: (s) => s[0],
    finish: (s) => s[1],
  };
  return keyedReduce(input, reducer, limits, spill);
}
