import type { TransformOp } from '@vansales/definitions';
import type { TransformRecord } from '../expression';
import type { TransformLimits } from '../limits';
import { keyedReduce, type Reducer } from '../internal/keyed-reduce';
import type { LazySpill } from '../internal/spill';
import { compareValues, keyOf, toNumber, type Batches } from '../internal/values';

type AggregateOp = Extract<TransformOp, { op: 'aggregate' }>;
type Fn = AggregateOp['measures'][string]['fn'];
/**
 * Per measure: count [n]; sum and avg [sum, n]; min and max [value]; first and last [seq, value].
 * Plain arrays so a spilled state is small JSON.
 */
type Acc = [number, number] | [unknown] | [number, unknown] | [number];
/** [seq of the group's first record, group values, accumulators]. */
type State = [number, unknown[], Acc[]];

/**
 * Group by with count/sum/min/max/avg/first/last. Nulls and missing values are skipped by every
 * measure but count(*) (no field) and first/last (which keep what the record had, as SQL's
 * first_value does). Numbers may arrive as strings (canonical decimals): sum and avg read them.
 */
export function aggregate(
  input: Batches,
  op: AggregateOp,
  limits: TransformLimits,
  spill: LazySpill,
  numericFields: ReadonlySet<string>,
): AsyncGenerator<TransformRecord[]> {
  const measures = Object.entries(op.measures).map(([name, m]) => ({ name, fn: m.fn as Fn, field: m.field }));
  for (const m of measures)
    if (m.fn !== 'count' && m.field === undefined) throw new Error(`measure ${m.name}: ${m.fn} needs a field`);
  let seen = 0;
  const addTo = (acc: Acc, m: (typeof measures)[number], r: TransformRecord, seq: number) => {
    const v = m.field === undefined ? undefined : r[m.field];
    switch (m.fn) {
      case 'count':
        if (m.field === undefined || (v !== null && v !== undefined)) (acc as [number])[0]++;
        return;
      case 'sum':
      case 'avg':
        if (v === null || v === undefined) return;
        (acc as [number, number])[0] += toNumber(v, m.field!, seq + 1);
        (acc as [number, number])[1]++;
        return;
      case 'min':
      case 'max': {
        if (v === null || v === undefined) return;
        const cur = (acc as [unknown])[0];
        const c = cur === undefined ? 0 : compareValues(v, cur, numericFields.has(m.field!));
        if (cur === undefined || (m.fn === 'min' ? c < 0 : c > 0)) (acc as [unknown])[0] = v;
        return;
      }
      case 'first':
        return;
      case 'last':
        (acc as [number, unknown])[0] = seq;
        (acc as [number, unknown])[1] = v ?? null;
    }
  };
  const fresh = (m: (typeof measures)[number], r: TransformRecord, seq: number): Acc => {
    switch (m.fn) {
      case 'count':
        return [0];
      case 'sum':
      case 'avg':
        return [0, 0];
      case 'min':
      case 'max':
        return [undefined];
      case 'first':
      case 'last':
        return [seq, r[m.field!] ?? null];
    }
  };
  const mergeAcc = (fn: Fn, a: Acc, b: Acc, field: string | undefined): Acc => {
    switch (fn) {
      case 'count':
        return [(a as [number])[0] + (b as [number])[0]];
      case 'sum':
      case 'avg':
        return [
          (a as [number, number])[0] + (b as [number, number])[0],
          (a as [number, number])[1] + (b as [number, number])[1],
        ];
      case 'min':
      case 'max': {
        const x = (a as [unknown])[0];
        const y = (b as [unknown])[0];
        if (x === undefined || x === null) return [y];
        if (y === undefined || y === null) return [x];
        const c = compareValues(y, x, field !== undefined && numericFields.has(field));
        return [(fn === 'min' ? c < 0 : c > 0) ? y : x];
      }
      case 'first':
        return (b as [number])[0] < (a as [number])[0] ? b : a;
      case 'last':
        return (b as [number])[0] > (a as [number])[0] ? b : a;
    }
  };
  const reducer: Reducer<State> = {
    key: (r) => keyOf(r, op.groupBy),
    init(r, seq) {
      seen++;
      const state: State = [seq, op.groupBy.map((f) => r[f] ?? null), measures.map((m) => fresh(m, r, seq))];
      measures.forEach((m, i) => addTo(state[2][i]!, m, r, seq));
      return state;
    },
    add(state, r, seq) {
      seen++;
      measures.forEach((m, i) => addTo(state[2][i]!, m, r, seq));
    },
    merge: (a, b) => [Math.min(a[0], b[0]), a[1], measures.map((m, i) => mergeAcc(m.fn, a[2][i]!, b[2][i]!, m.field))],
    order: (s) => s[0],
    finish(s) {
      const out: TransformRecord = {};
      op.groupBy.forEach((f, i) => (out[f] = s[1][i]));
      measures.forEach((m, i) => {
        const acc = s[2][i]!;
        switch (m.fn) {
          case 'count':
            out[m.name] = acc[0];
            break;
          case 'sum':
            out[m.name] = (acc as [number, number])[1] === 0 ? null : acc[0];
            break;
          case 'avg':
            out[m.name] =
              (acc as [number, number])[1] === 0 ? null : (acc as [number, number])[0] / (acc as [number, number])[1];
            break;
          case 'min':
          case 'max':
            out[m.name] = acc[0] ?? null;
            break;
          case 'first':
          case 'last':
            out[m.name] = (acc as [number, unknown])[1];
        }
      });
      return out;
    },
  };
  // Group by nothing over no records: one row of empty measures, as SQL gives.
  const run = keyedReduce(input, reducer, limits, spill);
  return (async function* () {
    yield* run;
    if (seen === 0 && op.groupBy.length === 0)
      yield [
        reducer.finish([
          0,
          [],
          measures.map((m) =>
            m.fn === 'count'
              ? [0]
              : m.fn === 'sum' || m.fn === 'avg'
                ? [0, 0]
                : m.fn === 'first' || m.fn === 'last'
                  ? [0, null]
                  : [undefined],
          ),
        ]),
      ];
  })();
}
