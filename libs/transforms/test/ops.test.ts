import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TransformOp } from '@vansales/definitions';
import { runTransform, type TransformLimitsInput, type TransformRecord } from '@vansales/transforms';
import { batchesOf, collect } from './support';

let spillDir: string;
beforeEach(() => {
  spillDir = mkdtempSync(join(tmpdir(), 'transforms-test-'));
});
afterEach(() => rmSync(spillDir, { recursive: true, force: true }));

/** Small limits force every spilling path; large ones keep everything in memory. */
const SPILL = () => ({ memoryRecords: 50, spillPartitions: 4, batchRecords: 37, spillDir });
const MEMORY = () => ({ spillDir });

const run = (
  op: TransformOp,
  left: TransformRecord[],
  right?: TransformRecord[],
  limits: TransformLimitsInput = MEMORY(),
  buildSide?: 'left' | 'right',
) =>
  collect(
    runTransform(
      op,
      { left: batchesOf(left, 23), right: right && batchesOf(right, 19) },
      { limits, numericFields: ['amount'], buildSide },
    ),
  );

const orders = Array.from({ length: 1000 }, (_, i) => ({
  id: i,
  customer: i % 97,
  amount: ((i * 37) % 1000) / 4 + (i % 5 === 0 ? 0 : 0.25),
  city: ['Porto', 'Lisboa', null, 'Faro'][i % 4],
  at: i % 13,
}));
const customers = Array.from({ length: 120 }, (_, i) => ({ customer: i, name: `c${i}`, tier: i % 3 }));

const byJson = (a: unknown, b: unknown) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
const sorted = <T>(xs: T[]) => [...xs].sort(byJson);

describe('ops, in memory and spilled', () => {
  it('sort: stable, by several keys, the same spilled (external merge) as in memory', async () => {
    const op: TransformOp = {
      op: 'sort',
      by: [
        { field: 'city', desc: false },
        { field: 'amount', desc: true },
      ],
    };
    const mem = await run(op, orders);
    const spilled = await run(op, orders, undefined, SPILL());
    expect(spilled).toEqual(mem);
    const expected = [...orders].sort((a, b) => {
      const ca = a.city ?? '\uffff';
      const cb = b.city ?? '\uffff';
      return ca < cb ? -1 : ca > cb ? 1 : b.amount - a.amount;
    });
    expect(mem.map((r) => r.id)).toEqual(expected.map((r) => r.id));
    expect(readdirSync(spillDir)).toEqual([]);
  });

  it('sort reads decimal strings of numericFields by value', async () => {
    const rows = [{ amount: '10.5' }, { amount: '9.75' }, { amount: '100' }];
    expect((await run({ op: 'sort', by: [{ field: 'amount', desc: false }] }, rows)).map((r) => r.amount)).toEqual([
      '9.75',
      '10.5',
      '100',
    ]);
  });

  it('dedupe: first, last and by orderBy, the same spilled as in memory', async () => {
    for (const op of [
      { op: 'dedupe', key: ['customer'], keep: 'first' },
      { op: 'dedupe', key: ['customer'], keep: 'last' },
      { op: 'dedupe', key: ['customer', 'city'], keep: 'last', orderBy: 'amount' },
    ] as TransformOp[]) {
      const mem = await run(op, orders);
      const spilled = await run(op, orders, undefined, SPILL());
      expect(sorted(spilled)).toEqual(sorted(mem));
      const d = op as Extract<TransformOp, { op: 'dedupe' }>;
      const want = new Map<string, (typeof orders)[number]>();
      for (const o of orders) {
        const k = JSON.stringify(d.key.map((f) => (o as Record<string, unknown>)[f]));
        const seen = want.get(k);
        if (!seen) want.set(k, o);
        else if (d.orderBy ? o.amount >= seen.amount : d.keep === 'last') want.set(k, o);
      }
      expect(mem.map((r) => r.id)).toEqual([...want.values()].map((r) => r.id).sort((a, b) => a - b));
    }
  });

  it('aggregate: count/sum/min/max/avg/first/last by group, the same spilled as in memory', async () => {
    const op: TransformOp = {
      op: 'aggregate',
      groupBy: ['city', 'at'],
      measures: {
        n: { fn: 'count' },
        total: { fn: 'sum', field: 'amount' },
        low: { fn: 'min', field: 'amount' },
        high: { fn: 'max', field: 'amount' },
        mean: { fn: 'avg', field: 'amount' },
        firstId: { fn: 'first', field: 'id' },
        lastId: { fn: 'last', field: 'id' },
      },
    };
    const mem = await run(op, orders);
    const spilled = await run(op, orders, undefined, SPILL());
    expect(sorted(spilled)).toEqual(sorted(mem));
    expect(mem.length).toBe(4 * 13);
    const porto3 = orders.filter((o) => o.city === 'Porto' && o.at === 3);
    expect(mem.find((r) => r.city === 'Porto' && r.at === 3)).toEqual({
      city: 'Porto',
      at: 3,
      n: porto3.length,
      total: porto3.reduce((s, o) => s + o.amount, 0),
      low: Math.min(...porto3.map((o) => o.amount)),
      high: Math.max(...porto3.map((o) => o.amount)),
      mean: porto3.reduce((s, o) => s + o.amount, 0) / porto3.length,
      firstId: porto3[0]!.id,
      lastId: porto3[porto3.length - 1]!.id,
    });
  });

  it('aggregate without groups over nothing gives one row, as SQL does; sum reads decimal strings', async () => {
    const op: TransformOp = {
      op: 'aggregate',
      groupBy: [],
      measures: { n: { fn: 'count' }, s: { fn: 'sum', field: 'amount' } },
    };
    expect(await run(op, [])).toEqual([{ n: 0, s: null }]);
    expect(await run(op, [{ amount: '1.25' }, { amount: null }, { amount: 2 }])).toEqual([{ n: 3, s: 3.25 }]);
    await expect(run(op, [{ amount: 'abc' }])).rejects.toMatchObject({
      code: 'BAD_RECORD',
      details: { record: 1, field: 'amount' },
    });
  });

  it('join: inner, left and full, either build side, in memory and as a grace hash join, give the same rows', async () => {
    const left = [...orders.slice(0, 300), { id: 'nullkey', customer: null }] as TransformRecord[];
    for (const kind of ['inner', 'left', 'full'] as const) {
      const op: TransformOp = { op: 'join', kind, leftKey: ['customer'], rightKey: ['customer'] };
      const reference = await run(op, left, customers);
      for (const build of ['left', 'right'] as const)
        for (const limits of [MEMORY(), SPILL()])
          expect(sorted(await run(op, left, customers, limits, build))).toEqual(sorted(reference));
      const matched = left.filter((o) => o.customer !== null && (o.customer as number) < 120).length;
      const unmatchedRight = customers.filter((c) => !left.some((o) => o.customer === c.customer)).length;
      expect(reference.length).toBe(
        kind === 'inner' ? matched : kind === 'left' ? left.length : left.length + unmatchedRight,
      );
    }
    const [joined] = await run(
      { op: 'join', kind: 'inner', leftKey: ['customer'], rightKey: ['customer'] },
      [{ customer: 5, name: 'left wins' }],
      customers,
    );
    expect(joined).toEqual({ customer: 5, name: 'left wins', tier: 2 });
    expect(readdirSync(spillDir)).toEqual([]);
  });

  it('join: a build side of wide rows past memoryBytes spills (before memoryRecords) and gives the same rows', async () => {
    // 300 rows of ~40 KB each (~12 MB) against a 1 MiB budget: far below memoryRecords' 150,000 rows.
    const wide = customers.map((c, i) => ({ ...c, blob: `${'é'.repeat(20_000)}${i}` }));
    const right = [...wide, ...wide.map((c) => ({ ...c, customer: c.customer + 1000 }))].slice(0, 300);
    const op: TransformOp = { op: 'join', kind: 'left', leftKey: ['customer'], rightKey: ['customer'] };
    const digest = (rows: TransformRecord[]) =>
      createHash('sha256')
        .update(
          rows
            .map((r) => JSON.stringify(r))
            .sort()
            .join('\n'),
        )
        .digest('hex');
    const inMemory = await run(op, orders, right, { ...MEMORY(), memoryBytes: 1024 * 1024 * 1024 });

    let spilled = false;
    const out: TransformRecord[] = [];
    const gen = runTransform(
      op,
      { left: batchesOf(orders, 100), right: batchesOf(right, 100) },
      { limits: { spillDir, memoryBytes: 1024 * 1024, spillPartitions: 4 } },
    );
    for await (const batch of gen) {
      // The spill folder lives while the join runs.
      spilled ||= readdirSync(spillDir).length > 0;
      out.push(...batch);
    }
    expect(spilled).toBe(true);
    expect(out).toHaveLength(orders.length);
    expect(out.length).toBe(inMemory.length);
    expect(digest(out)).toBe(digest(inMemory));
    expect(readdirSync(spillDir)).toEqual([]);
  });

  it('coerce converts to canonical values and names the record and field it cannot convert', async () => {
    const op: TransformOp = {
      op: 'coerce',
      types: { n: 'integer', x: 'number', b: 'boolean', d: 'date', t: 'timestamp', s: 'string', j: 'json' },
    };
    expect(
      await run(op, [
        { n: '42', x: '1.5', b: 'yes', d: '2026-12-03 10:00:00', t: '2026-12-03T10:00:00+01:00', s: 5, j: '{"a":1}' },
      ]),
    ).toEqual([{ n: 42, x: 1.5, b: true, d: '2026-12-03', t: '2026-12-03T09:00:00.000Z', s: '5', j: { a: 1 } }]);
    expect(await run(op, [{ n: '123456789012345678901' }])).toMatchObject([{ n: '123456789012345678901', x: null }]);
    await expect(run(op, [{ n: 1 }, { n: 'x1' }])).rejects.toMatchObject({
      code: 'BAD_RECORD',
      details: { record: 2, field: 'n' },
    });
  });

  it('spills into a 0700 folder of its own and removes it, also when the run fails', async () => {
    const seen: string[] = [];
    const op: TransformOp = { op: 'sort', by: [{ field: 'id', desc: true }] };
    const gen = runTransform(op, { left: batchesOf(orders, 100) }, { limits: SPILL() });
    await gen.next();
    for (const entry of readdirSync(spillDir)) {
      seen.push(entry);
      expect(statSync(join(spillDir, entry)).mode & 0o777).toBe(0o700);
    }
    expect(seen).toHaveLength(1);
    await gen.return(undefined);
    expect(readdirSync(spillDir)).toEqual([]);

    async function* failing() {
      yield orders.slice(0, 500);
      throw new Error('source broke');
    }
    await expect(collect(runTransform(op, { left: failing() }, { limits: SPILL() }))).rejects.toThrow('source broke');
    expect(readdirSync(spillDir)).toEqual([]);
  });

  it('refuses limits out of range, naming the setting', async () => {
    await expect(
      run({ op: 'sort', by: [{ field: 'id', desc: false }] }, orders, undefined, {
        memoryRecords: 0,
        spillDir,
      } as never),
    ).rejects.toThrow(/memoryRecords/);
  });
});
