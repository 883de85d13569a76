import { compareStamps, decideKey, type ConflictPolicy, type RowVersion, type SyncAction } from '@vansales/dataflow';

const A = 'a0';
const B = 'b1';
const C = 'c2';
const v = (hash: string, stamp?: string): RowVersion => ({ hash, ...(stamp ? { stamp } : {}) });
const LWW: ConflictPolicy = { policy: 'last-writer-wins', column: 'updated_at' };
const PREFER_LEFT: ConflictPolicy = { policy: 'prefer', side: 'left' };
const PREFER_RIGHT: ConflictPolicy = { policy: 'prefer', side: 'right' };

type Expect = Pick<SyncAction, 'kind'> & { from?: string; on?: string; agreed: string | undefined };
const cases: [
  string,
  RowVersion | undefined,
  RowVersion | undefined,
  string | undefined,
  ConflictPolicy,
  boolean,
  Expect,
][] = [
  // name, left, right, agreed (state), conflict, deletes, expected
  ['equal, known', v(A), v(A), A, LWW, true, { kind: 'none', agreed: A }],
  [
    'equal, state unknown (both edited alike, or first sync): state learns it',
    v(A),
    v(A),
    undefined,
    PREFER_RIGHT,
    true,
    { kind: 'none', agreed: A },
  ],
  ['equal, state stale', v(B), v(B), A, LWW, true, { kind: 'none', agreed: B }],
  ['changed on left only', v(B), v(A), A, PREFER_RIGHT, true, { kind: 'copy', from: 'left', agreed: B }],
  ['changed on right only', v(A), v(B), A, PREFER_LEFT, true, { kind: 'copy', from: 'right', agreed: B }],
  [
    'conflict, lww: right later',
    v(B, '2026-01-01 10:00:00'),
    v(C, '2026-01-01 10:00:01'),
    A,
    LWW,
    true,
    { kind: 'copy', from: 'right', agreed: C },
  ],
  [
    'conflict, lww: left later',
    v(B, '2026-01-02 00:00:00'),
    v(C, '2026-01-01 23:59:59.5'),
    A,
    LWW,
    true,
    { kind: 'copy', from: 'left', agreed: B },
  ],
  [
    'conflict, lww: tie goes left',
    v(B, '2026-01-01 10:00:00'),
    v(C, '2026-01-01 10:00:00'),
    A,
    LWW,
    true,
    { kind: 'copy', from: 'left', agreed: B },
  ],
  [
    'conflict, lww: null stamp loses',
    v(B),
    v(C, '2000-01-01 00:00:00'),
    A,
    LWW,
    true,
    { kind: 'copy', from: 'right', agreed: C },
  ],
  [
    'conflict, prefer left',
    v(B, '2020-01-01 00:00:00'),
    v(C, '2026-01-01 00:00:00'),
    A,
    PREFER_LEFT,
    true,
    { kind: 'copy', from: 'left', agreed: B },
  ],
  [
    'conflict, prefer right',
    v(B, '2026-01-01 00:00:00'),
    v(C, '2020-01-01 00:00:00'),
    A,
    PREFER_RIGHT,
    true,
    { kind: 'copy', from: 'right', agreed: C },
  ],
  [
    'first sync, differ: the policy decides',
    v(B),
    v(C),
    undefined,
    PREFER_RIGHT,
    true,
    { kind: 'copy', from: 'right', agreed: C },
  ],
  ['new on left', v(A), undefined, undefined, PREFER_RIGHT, true, { kind: 'copy', from: 'left', agreed: A }],
  ['new on right', undefined, v(A), undefined, PREFER_LEFT, true, { kind: 'copy', from: 'right', agreed: A }],
  [
    'deleted on right, left unchanged',
    v(A),
    undefined,
    A,
    LWW,
    true,
    { kind: 'delete', on: 'left', agreed: undefined },
  ],
  [
    'deleted on left, right unchanged',
    undefined,
    v(A),
    A,
    PREFER_RIGHT,
    true,
    { kind: 'delete', on: 'right', agreed: undefined },
  ],
  [
    'deleted on right, deletes off: copied back',
    v(A),
    undefined,
    A,
    LWW,
    false,
    { kind: 'copy', from: 'left', agreed: A },
  ],
  [
    'deleted on right, changed on left, lww: the change is kept',
    v(B),
    undefined,
    A,
    LWW,
    true,
    { kind: 'copy', from: 'left', agreed: B },
  ],
  [
    'deleted on right, changed on left, prefer right: deleted',
    v(B),
    undefined,
    A,
    PREFER_RIGHT,
    true,
    { kind: 'delete', on: 'left', agreed: undefined },
  ],
  [
    'deleted on right, changed on left, prefer left: kept',
    v(B),
    undefined,
    A,
    PREFER_LEFT,
    true,
    { kind: 'copy', from: 'left', agreed: B },
  ],
  [
    'deleted on left, changed on right, prefer left, deletes off: kept',
    undefined,
    v(B),
    A,
    PREFER_LEFT,
    false,
    { kind: 'copy', from: 'right', agreed: B },
  ],
  ['gone from both: the state forgets it', undefined, undefined, A, LWW, true, { kind: 'none', agreed: undefined }],
];

describe('decideKey (the per-key merge of a bi-directional sync)', () => {
  it.each(cases)('%s', (_name, left, right, agreed, conflict, deletes, expected) => {
    const action = decideKey(left, right, agreed, conflict, deletes);
    expect({
      kind: action.kind,
      agreed: action.agreed,
      ...('from' in action ? { from: action.from } : {}),
      ...('on' in action ? { on: action.on } : {}),
    }).toEqual(expected);
    expect(action.why.length).toBeGreaterThan(0);
    // Only a row changed on both sides (or unknown to the state on both) counts as a conflict.
    expect(action.kind === 'copy' && action.conflict === true).toBe(/conflict|first sync, differ/.test(_name));
  });

  it('never copies a row back to the side it came from once the state has it (no echo)', () => {
    // Run 1: left changed A -> B; copied to right, state becomes B.
    const first = decideKey(v(B), v(A), A, PREFER_RIGHT, true);
    expect(first).toMatchObject({ kind: 'copy', from: 'left', agreed: B });
    // Run 2: both hold B, the state B: nothing moves either way.
    expect(decideKey(v(B), v(B), first.agreed, PREFER_RIGHT, true)).toMatchObject({ kind: 'none', agreed: B });
  });
});

describe('compareStamps', () => {
  it.each([
    ['2026-01-01 10:00:00.5', '2026-01-01 10:00:00', 1],
    ['2026-01-01 10:00:00', '2026-01-01 10:00:01', -1],
    [null, '1970-01-01 00:00:00', -1],
    [5, 12, -1],
    ['x', 'x', 0],
  ] as const)('%p vs %p', (a, b, sign) => {
    expect(Math.sign(compareStamps(a, b))).toBe(sign);
  });
});
