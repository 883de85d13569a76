import { SyncStep } from '@vansales/definitions';
import type { KeyRange } from '@vansales/protocol';
import { runSync, splitRange, type SyncSideOps } from '../src/definition/sync-run';

/** The bisection of a sync run over two in-memory tables (key -> row hash as a number). */
function side(rows: Map<number, number>, log: { checksums: number; read: KeyRange[] }): SyncSideOps {
  const inRange = (k: number, r: KeyRange) => (r.after === null || k > Number(r.after)) && k <= Number(r.upTo);
  const sum = (r?: KeyRange) => {
    let count = 0;
    let s = 0;
    for (const [k, h] of rows)
      if (!r || inRange(k, r)) {
        count++;
        s += h;
      }
    return { count, sum: String(s) };
  };
  return {
    async checksum(ranges) {
      log.checksums += ranges ? ranges.length : 1;
      if (!ranges) {
        const keys = [...rows.keys()];
        return {
          bounds: {
            ...sum(),
            min: keys.length ? String(Math.min(...keys)) : null,
            max: keys.length ? String(Math.max(...keys)) : null,
          },
        };
      }
      return { ranges: ranges.map(sum) };
    },
    async extract(ranges) {
      log.read.push(...ranges);
      return { rowCount: [...rows.keys()].filter((k) => ranges.some((r) => inRange(k, r))).length };
    },
    upsert: async () => undefined,
    remove: async () => undefined,
  };
}

const step = SyncStep.parse({
  id: 'sync',
  kind: 'sync',
  left: { endpoint: { kind: 'cloud-db', database: 'a' }, table: { name: 't' } },
  right: { endpoint: { kind: 'cloud-db', database: 'b' }, table: { name: 't' } },
  keyColumns: ['id'],
  conflict: { policy: 'prefer', side: 'left' },
  leafRows: 100,
});

async function sync(left: Map<number, number>, right: Map<number, number>, known = 1) {
  const logs = { left: { checksums: 0, read: [] as KeyRange[] }, right: { checksums: 0, read: [] as KeyRange[] } };
  let n = 0;
  const summary = await runSync(step, {
    left: side(left, logs.left),
    right: side(right, logs.right),
    cloud: {
      syncStateCount: async () => known,
      syncPlan: async () => ({ conflicts: 0, keys: 0 }),
      syncCommitState: async () => ({ put: 0, removed: 0 }),
    },
    scope: { tenantId: 't', definitionId: 'd', stepId: 'sync' },
    newObjectId: () => `o${n++}`,
  });
  return { summary, logs };
}

const table = (n: number) => new Map(Array.from({ length: n }, (_, i) => [i + 1, (i + 1) * 7919] as const));

describe('splitRange', () => {
  it.each([
    [{ after: '0', upTo: '100' }, 8, 8],
    [{ after: '-5', upTo: '3' }, 8, 8],
    [{ after: '0', upTo: '3' }, 8, 3],
    [{ after: '9007199254740990', upTo: '9007199254741100' }, 8, 8],
  ])('%p into %d parts gives %d contiguous ranges', (range, parts, count) => {
    const out = splitRange(range, parts);
    expect(out).toHaveLength(count);
    expect(out[0]!.after).toBe(range.after);
    expect(out.at(-1)!.upTo).toBe(range.upTo);
    for (let i = 1; i < out.length; i++) expect(out[i]!.after).toBe(out[i - 1]!.upTo);
  });
});

describe('runSync bisection', () => {
  it('reads one checksum per side and no row when nothing changed', async () => {
    const { summary, logs } = await sync(table(10_000), table(10_000));
    expect(summary).toMatchObject({ checksums: 1, rangesRead: 0, rowsRead: { left: 0, right: 0 } });
    expect(logs.left.checksums).toBe(1);
    expect(logs.right.checksums).toBe(1);
  });

  it('finds one changed row in 10,000 by checksums and reads only its small range', async () => {
    const right = table(10_000);
    right.set(4321, 1);
    const { summary, logs } = await sync(table(10_000), right);
    expect(summary.rangesRead).toBe(1);
    expect(summary.rowsRead.left).toBeLessThanOrEqual(100);
    expect(logs.left.read).toHaveLength(1);
    const [r] = logs.left.read;
    expect(Number(r!.after)).toBeLessThan(4321);
    expect(Number(r!.upTo)).toBeGreaterThanOrEqual(4321);
    // 8 sub-ranges per level, 3 levels down to 100 rows: far fewer than 10,000 row reads.
    expect(summary.checksums).toBeLessThanOrEqual(1 + 8 * 3);
  });

  it('finds a deleted row (a count differs though no hash changed elsewhere)', async () => {
    const left = table(5_000);
    left.delete(17);
    const { summary } = await sync(left, table(5_000));
    expect(summary.rangesRead).toBe(1);
    expect(summary.rowsRead.right).toBeLessThanOrEqual(100);
  });

  it('reads both tables whole on a first sync (no state yet), even when their checksums agree', async () => {
    const { summary } = await sync(table(300), table(300), 0);
    expect(summary).toMatchObject({ firstSync: true, rangesRead: 1, rowsRead: { left: 300, right: 300 } });
  });

  it('does nothing for two empty tables', async () => {
    const { summary } = await sync(new Map(), new Map(), 0);
    expect(summary).toMatchObject({ rangesRead: 0, rowsRead: { left: 0, right: 0 } });
  });
});
