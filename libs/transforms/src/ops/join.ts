import type { TransformOp } from '@vansales/definitions';
import type { TransformRecord } from '../expression';
import type { TransformLimits } from '../limits';
import { partitionOf, type LazySpill, type SpillFile } from '../internal/spill';
import { approxBytes, joinKeyOf, type Batches } from '../internal/values';

type JoinOp = Extract<TransformOp, { op: 'join' }>;
export type JoinSide = 'left' | 'right';

interface Entry {
  r: TransformRecord;
  m: boolean;
}

/**
 * Hash join on keys (null never matches). The build side (default: the side the caller knows is
 * smaller) is held in a hash table; when it has more than `memoryRecords` records or `memoryBytes`
 * (estimated), both sides are partitioned to spill files by the key's hash and joined partition by partition (grace hash join).
 * A joined record has the right record's fields, then the left's (the left wins on a name in both).
 */
export async function* joinRecords(
  left: Batches,
  right: Batches,
  op: JoinOp,
  limits: TransformLimits,
  spill: LazySpill,
  buildSide: JoinSide = 'right',
): AsyncGenerator<TransformRecord[]> {
  const kind = op.kind ?? 'inner';
  const build = buildSide === 'left' ? left : right;
  const probe = buildSide === 'left' ? right : left;
  const buildKey = buildSide === 'left' ? op.leftKey : op.rightKey;
  const probeKey = buildSide === 'left' ? op.rightKey : op.leftKey;
  const keepSide = (side: JoinSide) => (side === 'left' ? kind !== 'inner' : kind === 'full');
  const keepUnmatchedBuild = keepSide(buildSide);
  const keepUnmatchedProbe = keepSide(buildSide === 'left' ? 'right' : 'left');
  const combine =
    buildSide === 'left'
      ? (b: TransformRecord, p: TransformRecord) => ({ ...p, ...b })
      : (b: TransformRecord, p: TransformRecord) => ({ ...b, ...p });

  let out: TransformRecord[] = [];
  const push = function* (r: TransformRecord) {
    out.push(r);
    if (out.length >= limits.batchRecords) {
      yield out;
      out = [];
    }
  };

  // Build.
  let table = new Map<string, Entry[]>();
  let held = 0;
  let heldBytes = 0;
  /** Per held record besides the record itself: its table entry, the key text and the map's slot. */
  const ENTRY_BYTES = 96;
  const unkeyed: TransformRecord[] = [];
  let buildParts: SpillFile[] | undefined;
  let unkeyedFile: SpillFile | undefined;
  const spillBuild = async () => {
    buildParts ??= await Promise.all(Array.from({ length: limits.spillPartitions }, () => spill.file()));
    for (const [key, entries] of table)
      for (const e of entries) await buildParts[partitionOf(key, buildParts.length)]!.write(e.r);
    if (keepUnmatchedBuild && unkeyed.length > 0) {
      unkeyedFile ??= await spill.file();
      for (const r of unkeyed) await unkeyedFile.write(r);
    }
    unkeyed.length = 0;
    table = new Map();
    held = 0;
    heldBytes = 0;
  };
  for await (const batch of build) {
    for (const r of batch) {
      const key = joinKeyOf(r, buildKey);
      if (key === undefined) {
        if (keepUnmatchedBuild) {
          unkeyed.push(r);
          held++;
          heldBytes += approxBytes(r);
        }
        continue;
      }
      const entries = table.get(key);
      if (entries) entries.push({ r, m: false });
      else table.set(key, [{ r, m: false }]);
      held++;
      heldBytes += ENTRY_BYTES + key.length * 2 + approxBytes(r);
      // Within a batch too: one chunk of wide rows can be larger than the whole budget.
      if (heldBytes >= limits.memoryBytes) await spillBuild();
    }
    if (held >= limits.memoryRecords) await spillBuild();
  }

  const probeInto = function* (t: Map<string, Entry[]>, r: TransformRecord) {
    const key = joinKeyOf(r, probeKey);
    const entries = key === undefined ? undefined : t.get(key);
    if (!entries) {
      if (keepUnmatchedProbe) yield* push({ ...r });
      return;
    }
    for (const e of entries) {
      e.m = true;
      yield* push(combine(e.r, r));
    }
  };
  const unmatched = function* (t: Map<string, Entry[]>) {
    if (!keepUnmatchedBuild) return;
    for (const entries of t.values()) for (const e of entries) if (!e.m) yield* push({ ...e.r });
  };

  if (!buildParts) {
    for await (const batch of probe) for (const r of batch) yield* probeInto(table, r);
    yield* unmatched(table);
    for (const r of unkeyed) yield* push({ ...r });
  } else {
    await spillBuild();
    for (const f of buildParts) await f.end();
    if (unkeyedFile) await unkeyedFile.end();
    const probeParts = await Promise.all(Array.from({ length: limits.spillPartitions }, () => spill.file()));
    for await (const batch of probe)
      for (const r of batch) {
        const key = joinKeyOf(r, probeKey);
        if (key === undefined) {
          if (keepUnmatchedProbe) yield* push({ ...r });
        } else await probeParts[partitionOf(key, probeParts.length)]!.write(r);
      }
    for (const f of probeParts) await f.end();
    for (let p = 0; p < buildParts.length; p++) {
      const t = new Map<string, Entry[]>();
      for await (const r of buildParts[p]!.read<TransformRecord>()) {
        const key = joinKeyOf(r, buildKey)!;
        const entries = t.get(key);
        if (entries) entries.push({ r, m: false });
        else t.set(key, [{ r, m: false }]);
      }
      for await (const r of probeParts[p]!.read<TransformRecord>()) yield* probeInto(t, r);
      yield* unmatched(t);
    }
    if (unkeyedFile) for await (const r of unkeyedFile.read<TransformRecord>()) yield* push(r);
  }
  if (out.length > 0) yield out;
}
