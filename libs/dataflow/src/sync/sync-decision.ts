import { createHash } from 'node:crypto';
import type { ColumnSpec } from '../types/canonical-type';
import { comparableValue } from '../values/canonical-values';

export type SyncSide = 'left' | 'right';

export type ConflictPolicy = { policy: 'last-writer-wins'; column: string } | { policy: 'prefer'; side: SyncSide };

/** One side's version of a row: its hash and, for last-writer-wins, its timestamp column's comparable value. */
export interface RowVersion {
  hash: string;
  stamp?: unknown;
}

/**
 * What to do with one key. `copy` writes the `from` side's row to the other side; `delete` deletes it
 * on `on`; `agreed` is the hash both sides hold afterwards (undefined: the row is gone from both), the
 * state the next run compares with.
 */
export type SyncAction =
  | { kind: 'none'; agreed: string | undefined; why: string }
  | { kind: 'copy'; from: SyncSide; agreed: string; why: string; conflict?: true }
  | { kind: 'delete'; on: SyncSide; agreed: undefined; why: string };

const other = (side: SyncSide): SyncSide => (side === 'left' ? 'right' : 'left');

/** Larger is later: numbers by value, text (canonical timestamps, 'YYYY-MM-DD HH:MM:SS.f') by code point; null is earliest. */
export function compareStamps(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The merge decision of a bi-directional sync for one key (a three-way merge against the row both
 * sides agreed on at the last sync, `agreed`):
 * - present on both and equal: nothing (the state learns the hash if it did not know it);
 * - changed on one side only (the other still holds `agreed`): copied to the other side;
 * - changed on both, or no agreed state (a first sync): the conflict policy picks the winner
 *   (last-writer-wins: the later timestamp, ties to left; prefer: that side);
 * - gone on one side, the other unchanged: the delete is propagated (with `deletes`), else re-copied;
 * - gone on one side, changed on the other: last-writer-wins keeps the change (a delete has no
 *   timestamp to compare); prefer follows the preferred side, delete included;
 * - new on one side (no agreed state): copied.
 * A change copied to a side becomes the agreed state, so the next run does not copy it back (no echo).
 */
export function decideKey(
  left: RowVersion | undefined,
  right: RowVersion | undefined,
  agreed: string | undefined,
  conflict: ConflictPolicy,
  deletes: boolean,
): SyncAction {
  if (!left && !right) return { kind: 'none', agreed: undefined, why: 'gone from both sides' };
  if (left && right) {
    if (left.hash === right.hash) return { kind: 'none', agreed: left.hash, why: 'equal on both sides' };
    if (agreed === left.hash) return { kind: 'copy', from: 'right', agreed: right.hash, why: 'changed on right only' };
    if (agreed === right.hash) return { kind: 'copy', from: 'left', agreed: left.hash, why: 'changed on left only' };
    const winner =
      conflict.policy === 'prefer' ? conflict.side : compareStamps(left.stamp, right.stamp) >= 0 ? 'left' : 'right';
    const why =
      conflict.policy === 'prefer'
        ? `changed on both sides: ${winner} is preferred`
        : `changed on both sides: ${winner} wrote last (${conflict.column})`;
    return { kind: 'copy', from: winner, agreed: (winner === 'left' ? left : right).hash, why, conflict: true };
  }
  const [present, side] = left ? ([left, 'left'] as const) : ([right!, 'right'] as const);
  const gone = other(side);
  if (agreed === undefined) return { kind: 'copy', from: side, agreed: present.hash, why: `new on ${side}` };
  if (agreed === present.hash) {
    if (deletes) return { kind: 'delete', on: side, agreed: undefined, why: `deleted on ${gone}` };
    return { kind: 'copy', from: side, agreed: present.hash, why: `deleted on ${gone}; deletes are not propagated` };
  }
  // Changed on one side, deleted on the other.
  if (conflict.policy === 'prefer' && conflict.side === gone && deletes)
    return {
      kind: 'delete',
      on: side,
      agreed: undefined,
      why: `changed on ${side}, deleted on ${gone}: ${gone} is preferred`,
    };
  return {
    kind: 'copy',
    from: side,
    agreed: present.hash,
    why: `changed on ${side}, deleted on ${gone}: the change is kept`,
  };
}

/** A row's hash over its columns' comparable values (the same data hashes alike from MySQL and PostgreSQL). */
export function rowHash(columns: readonly ColumnSpec[], row: readonly unknown[]): string {
  const values = columns.map((c, i) => comparableValue(c.type, row[i]));
  return createHash('sha256').update(JSON.stringify(values)).digest('hex').slice(0, 32);
}

/** A key as text (the state's key): its comparable values as JSON. */
export function keyText(columns: readonly ColumnSpec[], keyCount: number, row: readonly unknown[]): string {
  const values: unknown[] = [];
  for (let i = 0; i < keyCount; i++) values.push(comparableValue(columns[i]!.type, row[i]));
  return JSON.stringify(values);
}
