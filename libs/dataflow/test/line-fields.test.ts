import { rowChecker, type CanonicalType, type ColumnSpec } from '@vansales/dataflow';
import { copyEncoder } from '../src/postgres/copy-text';
import { LineFields, type LineDialect } from '../src/values/line-fields';
import { mysqlLiteral } from '../src/mysql/literals';
import { rowsFile } from '../src/mysql/writer';

/*
 * The bulk-load fast path (NDJSON bytes -> field bytes) against the row paths it stands in for
 * (JSON.parse, the manifest's rowChecker, then mysqlLiteral and rowsFile for MySQL's LOAD DATA, or
 * copyEncoder's COPY text rows for PostgreSQL): wherever the fast path takes a line, the row path
 * must take it too and write exactly the same bytes; where the row path refuses a value, the fast
 * path must give up (so the row path refuses it, naming it).
 */

const column = (name: string, type: CanonicalType, nullable = true): ColumnSpec => ({
  name,
  type,
  nullable,
  nativeType: '',
});

const COLUMNS: ColumnSpec[] = [
  column('id', { kind: 'integer', bits: 64 }, false),
  column('i32', { kind: 'integer', bits: 32 }),
  column('u8', { kind: 'integer', bits: 8, unsigned: true }),
  column('amount', { kind: 'decimal', precision: 65, scale: 30 }),
  column('ratio', { kind: 'float', bits: 64 }),
  column('name', { kind: 'text', maxLength: 20 }),
  column('note', { kind: 'text' }),
  column('day', { kind: 'date' }),
  column('at', { kind: 'timestamp', withTimeZone: false }),
  column('flag', { kind: 'boolean' }),
];
const TYPES = COLUMNS.map((c) => c.type);

/** The rows' text by the row path: LOAD DATA's file (writer.ts rowsFile) or COPY's text rows. */
function rowText(dialect: LineDialect, rows: unknown[][], columns = COLUMNS): Buffer | 'refused' {
  if (dialect === 'mysql') {
    const state = { unfit: false };
    const bytes = Buffer.concat([
      ...rowsFile(
        rows,
        columns.map((c) => mysqlLiteral(c.type)),
        state,
      ),
    ]);
    return state.unfit ? 'refused' : bytes;
  }
  // As postgres/writer.ts textRows writes them.
  const encoders = columns.map((c) => copyEncoder(c.type));
  let out = '';
  try {
    for (const row of rows) {
      row.forEach((v, i) => {
        out += v === null || v === undefined ? '\\N' : encoders[i]!(v);
        out += i === row.length - 1 ? '\n' : '\t';
      });
    }
  } catch {
    return 'refused';
  }
  return Buffer.from(out);
}

/** The row path for one row, or 'refused' where the manifest's check or an encoder refuses it. */
function rowPath(dialect: LineDialect, row: unknown[], columns = COLUMNS): Buffer | 'refused' {
  return rowChecker(columns)([row]) ? 'refused' : rowText(dialect, [row], columns);
}

function fastPath(dialect: LineDialect, line: string, columns = COLUMNS): Buffer | undefined {
  const text = Buffer.from(line);
  return LineFields.for(
    dialect,
    columns.map((c) => c.type),
    columns,
  )!.lines(text, 0, text.length);
}

/** Values per column: ordinary ones, edges of the type, and what the manifest or the encoder refuses. */
const HOSTILE_TEXT = [
  '',
  'abc',
  "it's",
  'say "hi"',
  'back\\slash',
  'new\nline',
  'tab\there',
  '\r\n',
  '\u0000nul',
  '\u001a',
  '\u0001\u0008\u000c\u001f',
  '\u007f',
  'ü',
  '😀'.repeat(20),
  '😀'.repeat(21),
  'x'.repeat(20),
  'x'.repeat(21),
  '*/ ${x} `y`',
  '\ud800',
  'a\udc00',
  '日本語',
  '\\N',
  'NULL',
  "'",
  "\\'",
  '/',
  '\u2028\u2029',
  5,
  true,
  [1],
  null,
];
const VALUES: unknown[][] = [
  [
    0,
    1,
    -1,
    42,
    2 ** 53 - 1,
    -(2 ** 53 - 1),
    999_999_999_999_999,
    '9223372036854775807',
    '-922337203685477580',
    '123',
    '+5',
    '007',
    '-0',
    -0,
    1.5,
    1e21,
    true,
    'abc',
    null,
  ],
  [2147483647, -2147483648, 2147483648, '2147483648', '2147483647', -2147483649, 0, null, '1.0'],
  [255, 256, -1, '0', '-1', '255', 0, null],
  [
    '8206.07',
    '-0.5',
    '1e5',
    '.5',
    '5.',
    '+1.0',
    12.5,
    'NaN',
    'abc',
    '99999999999999999999999999999999999.999999999999999999999999999999',
    '-0',
    null,
  ],
  [
    0,
    -0,
    0.1,
    -5000.5,
    1e-7,
    1.7976931348623157e308,
    123456789012345680000,
    1e21,
    -1e-300,
    5e-324,
    'NaN',
    '1.5',
    null,
    true,
  ],
  HOSTILE_TEXT,
  HOSTILE_TEXT,
  ['2000-01-18', 'infinity', '2020-01-01 BC', '20000-01-01', '2020-1-1', 20200101, '2000-01-18T00:00:00', null],
  [
    '2020-01-02 13:23:43',
    '2020-01-02T13:23:43',
    '2020-01-02T13:23:43Z',
    '2020-01-02T13:23:43.123456Z',
    '2020-01-02 13:23:43.123456789',
    '2020-01-02 13:23:43+02',
    '-infinity',
    '2020-01-02 13:23:43.1234567890',
    '2020-01-02',
    null,
  ],
  [true, false, 1, 't', null],
];

describe.each(['mysql', 'postgres'] as const)('%s bulk-load fields from NDJSON lines (the fast path)', (dialect) => {
  it('writes every line of the corpus as the row path does, or gives up where the row path refuses', () => {
    const BASE = [7, 8, 9, '1.50', 0.25, 'name', 'note', '2000-01-18', '2020-01-02 13:23:43', false];
    // Each value of each column in an ordinary row, then the columns' values mixed at their own strides.
    const rows = VALUES.flatMap((values, i) => values.map((v) => BASE.map((b, j) => (j === i ? v : b))));
    const single = rows.length;
    for (let k = 0; k < 6_000; k++) {
      rows.push(VALUES.map((values, i) => values[(k * (i + 3) + i * 7 + Math.floor(k / (i + 2))) % values.length]));
    }
    let taken = 0;
    let refused = 0;
    let takenSingle = 0;
    rows.forEach((row, k) => {
      const line = JSON.stringify(row);
      const fast = fastPath(dialect, line);
      const expected = rowPath(dialect, JSON.parse(line) as unknown[]);
      if (expected === 'refused') refused++;
      if (fast === undefined) return;
      taken++;
      if (k < single) takenSingle++;
      if (expected === 'refused' || !fast.equals(expected)) {
        throw new Error(`line ${line}: fast path ${fast.toString()} row path ${String(expected)}`);
      }
    });
    // Neither path may be trivially idle: many lines are taken, many refused.
    expect(takenSingle).toBeGreaterThan(single / 2);
    expect(taken).toBeGreaterThan(single / 2);
    expect(refused).toBeGreaterThan(single / 4);
  });

  it('takes every ordinary row, and writes a whole text of lines with empty lines skipped', () => {
    const rows = Array.from({ length: 2_000 }, (_, k) => [
      k + 1,
      ((k * 7919) % 100_000) - 50_000,
      k % 256,
      (((k * 48271) % 1e9) / 100).toFixed(2),
      k % 17 === 0 ? null : ((k * 37) % 1e6) / 64 - 5000,
      `C-${k.toString(16)}`,
      k % 29 === 0 ? null : `Row ${k}, "Zoë" said; it's \\ ok 😀`,
      `20${String(k % 100).padStart(2, '0')}-01-18`,
      `2020-01-02T13:23:${String(k % 60).padStart(2, '0')}Z`,
      k % 3 === 0,
    ]);
    const text = Buffer.from(`${rows.map((r) => JSON.stringify(r)).join('\n\n')}`);
    const transcoder = LineFields.for(dialect, TYPES, COLUMNS)!;
    const fast = transcoder.lines(text, 0, text.length);
    expect(transcoder.rows).toBe(rows.length);
    const expected = rowText(dialect, rows) as Buffer;
    expect(fast?.equals(expected)).toBe(true);
    // A range ending mid-buffer ends at its own end (no newline after the last line).
    const firstLine = text.indexOf(0x0a);
    expect(transcoder.lines(text, 0, firstLine)?.toString()).toBe(rowPath(dialect, rows[0]!).toString());
  });

  it('gives up on JSON it does not write itself: spaces, a missing or extra value, not an array', () => {
    for (const line of [
      '[1, 2, 3, "1.00", 1.5, "a", "b", "2000-01-01", "2000-01-01 00:00:00", true]',
      '[1,2,3,"1.00",1.5,"a","b","2000-01-01","2000-01-01 00:00:00"]',
      '[1,2,3,"1.00",1.5,"a","b","2000-01-01","2000-01-01 00:00:00",true,null]',
      '[1,2,3,"1.00",1.5,"a","b","2000-01-01","2000-01-01 00:00:00",true]x',
      '{"id":1}',
      '"[1]"',
      '[1,2,3,"1.00",1.5,"a\\x","b","2000-01-01","2000-01-01 00:00:00",true]',
      '[1,2,3,"1.00",1.5,"a\\u12","b","2000-01-01","2000-01-01 00:00:00",true]',
      '[1,2,3,"1.00",1.5,"a","b","2000-01-01","2000-01-01 00:00:00",nul]',
      '[1,2,3,"1.00",1.5,"a","b","2000-01-01","2000-01-01 00:00:00",truex]',
      '[1,2,3,"1.00",01.5,"a","b","2000-01-01","2000-01-01 00:00:00",true]',
      '[1,2,3,"1.00",1.5,"a","b","2000-01-01","2000-01-01 00:00:00",true',
    ]) {
      expect(fastPath(dialect, line)).toBeUndefined();
    }
  });

  it('reads a float spelled otherwise than String(v) into the same number', () => {
    const fast = fastPath(dialect, '[1,2,3,"1.00",1.50,"a","b","2000-01-01","2000-01-01 00:00:00",true]')!;
    const row = rowPath(dialect, [1, 2, 3, '1.00', 1.5, 'a', 'b', '2000-01-01', '2000-01-01 00:00:00', true]) as Buffer;
    const sep = dialect === 'mysql' ? ',' : '\t';
    expect(fast.toString().split(sep)[4]).toBe('1.50');
    expect(Number(fast.toString().split(sep)[4])).toBe(Number(row.toString().split(sep)[4]));
  });

  it('takes no column type it does not model, nor a manifest that declares another kind', () => {
    const only = (type: CanonicalType, declared?: CanonicalType) =>
      LineFields.for(dialect, [type], declared ? [column('c', declared)] : undefined);
    expect(only({ kind: 'float', bits: 32 })).toBeUndefined();
    expect(only({ kind: 'binary' })).toBeUndefined();
    expect(only({ kind: 'json' })).toBeUndefined();
    expect(only({ kind: 'bit', length: 1 })).toBeUndefined();
    expect(only({ kind: 'year' })).toBeUndefined();
    expect(only({ kind: 'text' }, { kind: 'uuid' })).toBeUndefined();
    expect(only({ kind: 'integer', bits: 32 }, { kind: 'text' })).toBeUndefined();
    expect(only({ kind: 'text' }, { kind: 'text', maxLength: 3 })).toBeDefined();
    expect(LineFields.for(dialect, TYPES, COLUMNS.slice(1))).toBeUndefined();
  });
});
