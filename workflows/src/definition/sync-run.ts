import type { CloudActivities } from '@vansales/activities';
import type { SyncStep } from '@vansales/definitions';
import type { KeyRange, SyncChecksumOutputT } from '@vansales/protocol';

/** Sub-ranges a differing range is split into per round (data-diff's bisection factor). */
export const SYNC_SPLIT = 8;
/** Ranges per checksum or extract task (the protocol's MAX_SYNC_RANGES). */
const RANGES_PER_TASK = 4096;

type Checksums = NonNullable<SyncChecksumOutputT['ranges']>;

/** What the interpreter gives a sync run: one side's operations, on its site or in the cloud. */
export interface SyncSideOps {
  checksum(ranges?: KeyRange[]): Promise<SyncChecksumOutputT>;
  extract(ranges: KeyRange[], objectId: string): Promise<{ rowCount: number }>;
  upsert(objectId: string): Promise<unknown>;
  remove(objectId: string): Promise<unknown>;
}

export interface SyncRunDeps {
  left: SyncSideOps;
  right: SyncSideOps;
  cloud: Pick<CloudActivities, 'syncStateCount' | 'syncPlan' | 'syncCommitState'>;
  scope: { tenantId: string; definitionId: string; stepId: string };
  newObjectId(): string;
}

/** A sync run's summary (the step's value): what was read and what moved. */
export interface SyncRunSummary {
  firstSync: boolean;
  /** Checksums computed per side (1 when nothing changed: the whole table's). */
  checksums: number;
  /** Key ranges whose rows were read. */
  rangesRead: number;
  rowsRead: { left: number; right: number };
  copied: { toLeft: number; toRight: number };
  deleted: { left: number; right: number };
  conflicts: number;
}

/** Splits (after, upTo] into at most `parts` non-empty integer ranges, in order. */
export function splitRange(range: KeyRange, parts: number): KeyRange[] {
  const after = BigInt(range.after!);
  const upTo = BigInt(range.upTo);
  const span = upTo - after;
  const n = BigInt(parts);
  const step = (span + n - BigInt(1)) / n;
  const out: KeyRange[] = [];
  for (let lo = after; lo < upTo; lo += step) {
    const hi = lo + step < upTo ? lo + step : upTo;
    out.push({ after: String(lo), upTo: String(hi) });
  }
  return out;
}

async function inTasks<T>(ranges: KeyRange[], fn: (part: KeyRange[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ranges.length; i += RANGES_PER_TASK)
    out.push(...(await fn(ranges.slice(i, i + RANGES_PER_TASK))));
  return out;
}

/**
 * A bi-directional sync (pattern 3.4.3), data-diff's way: each side's database computes the whole
 * table's count and checksum; when they agree (and the step has synced before) nothing more is read.
 * Otherwise differing ranges are split and checksummed again, both sides in parallel, until a range
 * is small (leafRows) or empty on one side; only those ranges' rows are read (into the buffer). The
 * cloud plans per key against the state of the last sync, each side applies its upserts and deletes
 * (idempotent by key; object ids chosen here, so a retried task writes the same object), and the state
 * is recorded last. A first sync (no state yet) reads both tables whole, so every key gets a state.
 */
export async function runSync(step: SyncStep, deps: SyncRunDeps): Promise<SyncRunSummary> {
  const { left, right, cloud } = deps;
  const summary: SyncRunSummary = {
    firstSync: false,
    checksums: 1,
    rangesRead: 0,
    rowsRead: { left: 0, right: 0 },
    copied: { toLeft: 0, toRight: 0 },
    deleted: { left: 0, right: 0 },
    conflicts: 0,
  };
  const [l, r, known] = await Promise.all([left.checksum(), right.checksum(), cloud.syncStateCount(deps.scope)]);
  const a = l.bounds!;
  const b = r.bounds!;
  summary.firstSync = known === 0;
  if ((!summary.firstSync || a.count + b.count === 0) && a.count === b.count && a.sum === b.sum) return summary;
  const mins = [a.min, b.min].filter((v): v is string => v !== null).map((v) => BigInt(v));
  const maxs = [a.max, b.max].filter((v): v is string => v !== null).map((v) => BigInt(v));
  const lo = mins.reduce((x, y) => (y < x ? y : x));
  const hi = maxs.reduce((x, y) => (y > x ? y : x));
  const top: KeyRange = { after: String(lo - BigInt(1)), upTo: String(hi) };

  const leaves: KeyRange[] = [];
  const leafRows = step.leafRows ?? 256;
  let level = [{ range: top, l: a.count, r: b.count }];
  if (summary.firstSync) leaves.push(top);
  else
    while (level.length > 0) {
      const split: KeyRange[] = [];
      for (const p of level) {
        const small = p.l === 0 || p.r === 0 || Math.max(p.l, p.r) <= leafRows;
        if (small || BigInt(p.range.upTo) - BigInt(p.range.after!) <= BigInt(1)) leaves.push(p.range);
        else split.push(...splitRange(p.range, SYNC_SPLIT));
      }
      if (split.length === 0) break;
      const checksums = (side: SyncSideOps) =>
        inTasks<Checksums[number]>(split, async (part) => (await side.checksum(part)).ranges!);
      const [cl, cr] = await Promise.all([checksums(left), checksums(right)]);
      summary.checksums += split.length;
      level = split
        .map((range, i) => ({ range, l: cl[i]!.count, r: cr[i]!.count, same: cl[i]!.sum === cr[i]!.sum }))
        .filter((p) => !(p.same && p.l === p.r));
    }
  summary.rangesRead = leaves.length;

  for (let i = 0; i < leaves.length; i += RANGES_PER_TASK) {
    const ranges = leaves.slice(i, i + RANGES_PER_TASK);
    const ids = { left: deps.newObjectId(), right: deps.newObjectId() };
    const [rl, rr] = await Promise.all([left.extract(ranges, ids.left), right.extract(ranges, ids.right)]);
    summary.rowsRead.left += rl.rowCount;
    summary.rowsRead.right += rr.rowCount;
    const plan = await cloud.syncPlan({
      ...deps.scope,
      left: ids.left,
      right: ids.right,
      keyColumns: step.keyColumns,
      conflict: step.conflict,
      deletes: step.deletes ?? true,
      outputs: {
        toLeft: deps.newObjectId(),
        toRight: deps.newObjectId(),
        deleteLeft: deps.newObjectId(),
        deleteRight: deps.newObjectId(),
        state: deps.newObjectId(),
      },
    });
    const apply = async (side: SyncSideOps, upsert?: { objectId: string }, remove?: { objectId: string }) => {
      if (upsert) await side.upsert(upsert.objectId);
      if (remove) await side.remove(remove.objectId);
    };
    await Promise.all([apply(left, plan.toLeft, plan.deleteLeft), apply(right, plan.toRight, plan.deleteRight)]);
    summary.copied.toLeft += plan.toLeft?.rows ?? 0;
    summary.copied.toRight += plan.toRight?.rows ?? 0;
    summary.deleted.left += plan.deleteLeft?.rows ?? 0;
    summary.deleted.right += plan.deleteRight?.rows ?? 0;
    summary.conflicts += plan.conflicts;
    // Last: only once both sides hold what the plan decided does the next run compare with it.
    if (plan.state) await cloud.syncCommitState({ ...deps.scope, objectId: plan.state.objectId });
  }
  return summary;
}
