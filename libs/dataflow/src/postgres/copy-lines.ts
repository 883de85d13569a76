import { DataflowError, DataflowErrorCode } from '../errors';
import type { ColumnSpec } from '../types/canonical-type';
import { BadValue } from '../values/bad-value';
import { type FromText, pgFromText } from './from-text';

/*
 * PostgreSQL's COPY text output straight into the buffer's chunk lines (NDJSON, one JSON array of
 * canonical values per row), byte by byte: the extract's fast path. The row path (readPostgres) has
 * pg make a string of every field, converts them to canonical values and JSON.stringify's each row;
 * on the cloud -> site path that, and its garbage, was the cloud worker's CPU (bench/README.md,
 * data-transfer).
 *
 * Every field comes out exactly as the row path writes it. The common forms are copied (integers
 * that stay numbers, floats without an exponent, booleans, text and every type whose text is its
 * canonical value, as a JSON string); any other field (a 64-bit integer past 2^53, a float with an
 * exponent, NaN, timestamptz, json, arrays, bytea...) is decoded and converted by the row path's own
 * function (`pgFromText`) and written with JSON.stringify. `test/postgres-round-trip.int.test.ts`
 * compares the two paths byte for byte on every type family.
 */

type Form = 'number' | 'integer64' | 'float' | 'boolean' | 'string' | 'convert';

const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
const QUOTE = 0x22;
const MINUS = 0x2d;
const HEX = '0123456789abcdef';

/** The byte a COPY text escape stands for (`\n` and the rest; any other escaped byte is itself). */
function unescaped(e: number): number {
  switch (e) {
    case 0x6e:
      return 0x0a;
    case 0x74:
      return 0x09;
    case 0x72:
      return 0x0d;
    case 0x62:
      return 0x08;
    case 0x66:
      return 0x0c;
    case 0x76:
      return 0x0b;
    default:
      return e;
  }
}

function formOf(column: ColumnSpec): { form: Form; convert?: FromText } {
  const convert = pgFromText(column.type);
  const type = column.type;
  if (type.kind === 'integer') return { form: type.bits === 64 || type.unsigned ? 'integer64' : 'number', convert };
  if (type.kind === 'float') return { form: 'float', convert };
  if (type.kind === 'boolean') return { form: 'boolean', convert };
  // The text form is the canonical value (decimal, date, time, interval, uuid, enum, bit, timestamp
  // without zone, text...): a JSON string of it.
  if (!convert) return { form: 'string' };
  return { form: 'convert', convert };
}

/** One COPY text row at a time into a JSON array line. */
export class CopyLines {
  private readonly forms: Form[];
  private readonly converts: (FromText | undefined)[];
  private src: Buffer = Buffer.alloc(0);
  private out: Buffer;
  private o = 0;
  /** Rows made so far (for the row number of an error). */
  rows = 0;

  constructor(
    private readonly columns: ColumnSpec[],
    private readonly label: string,
  ) {
    const forms = columns.map(formOf);
    this.forms = forms.map((f) => f.form);
    this.converts = forms.map((f) => f.convert);
    this.out = Buffer.allocUnsafe(1024 * 1024);
  }

  /**
   * The lines of the complete rows in src[start, end) (each ending at a newline), at most `maxRows`;
   * returns where the first row not made starts. The lines made so far are taken with `take`.
   */
  add(src: Buffer, start: number, end: number, maxRows = Infinity): number {
    this.src = src;
    let p = start;
    for (let made = 0; made < maxRows; made++) {
      const eol = src.indexOf(NEWLINE, p);
      if (eol < 0 || eol >= end) break;
      this.row(p, eol);
      p = eol + 1;
    }
    return p;
  }

  /** Bytes of the lines made since the last take (their own copy). */
  take(): Buffer {
    const lines = Buffer.allocUnsafe(this.o);
    this.out.copy(lines, 0, 0, this.o);
    this.o = 0;
    return lines;
  }

  /** Room for n more bytes. */
  private ensure(n: number): void {
    if (this.o + n <= this.out.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.o + n));
    this.out.copy(bigger, 0, 0, this.o);
    this.out = bigger;
  }

  private row(start: number, end: number): void {
    const src = this.src;
    const n = this.forms.length;
    // Worst case per byte: a control character becomes \u00XX (six bytes); plus brackets and commas.
    this.ensure(6 * (end - start) + n + 3);
    this.out[this.o++] = 0x5b; // [
    let p = start;
    for (let i = 0; i < n; i++) {
      if (i > 0) this.out[this.o++] = 0x2c; // ,
      let q = src.indexOf(TAB, p);
      if (q < 0 || q > end) q = end;
      if (i < n - 1 && q === end) this.fail(i, `the row has ${i + 1} fields for ${n} columns`);
      this.field(i, p, q);
      p = q + 1;
    }
    if (p !== end + 1) this.fail(n - 1, `the row has more fields than its ${n} columns`);
    this.out[this.o++] = 0x5d; // ]
    this.out[this.o++] = NEWLINE;
    this.rows++;
  }

  private field(i: number, p: number, q: number): void {
    const src = this.src;
    const out = this.out;
    if (q - p === 2 && src[p] === BACKSLASH && src[p + 1] === 0x4e /* N */) {
      out[this.o++] = 0x6e; // null
      out[this.o++] = 0x75;
      out[this.o++] = 0x6c;
      out[this.o++] = 0x6c;
      return;
    }
    switch (this.forms[i]) {
      case 'number':
        return this.copy(p, q);
      case 'integer64':
        // Within 15 digits the value is a safe integer: integerValue gives a number printed as the same digits.
        if (q - p - (src[p] === MINUS ? 1 : 0) <= 15) return this.copy(p, q);
        return this.convert(i, p, q);
      case 'float':
        if (this.plainFloat(p, q)) return this.copy(p, q);
        return this.convert(i, p, q);
      case 'boolean':
        if (q - p === 1 && (src[p] === 0x74 || src[p] === 0x66)) {
          if (src[p] === 0x74) out.write('true', this.o, 'latin1');
          else out.write('false', this.o, 'latin1');
          this.o += src[p] === 0x74 ? 4 : 5;
          return;
        }
        return this.convert(i, p, q);
      case 'string':
        return this.string(p, q);
      default:
        return this.convert(i, p, q);
    }
  }

  /**
   * PostgreSQL's shortest float text that Number() reads and String() prints back the same: no
   * exponent (PostgreSQL writes one from 1e15 and below 1e-4, JavaScript from 1e21 and below 1e-7,
   * in another spelling), not NaN or an infinity, not -0.
   */
  private plainFloat(p: number, q: number): boolean {
    const src = this.src;
    let k = src[p] === MINUS ? p + 1 : p;
    if (k === q) return false;
    let nonZero = false;
    let dot = false;
    for (; k < q; k++) {
      const b = src[k]!;
      if (b === 0x2e) {
        if (dot) return false;
        dot = true;
      } else if (b >= 0x30 && b <= 0x39) {
        if (b !== 0x30) nonZero = true;
      } else return false;
    }
    return nonZero || src[p] !== MINUS;
  }

  private copy(p: number, q: number): void {
    const src = this.src;
    const out = this.out;
    let o = this.o;
    for (let k = p; k < q; k++) out[o++] = src[k]!;
    this.o = o;
  }

  /** A COPY text field as a JSON string: COPY's escapes undone, JSON.stringify's made. */
  private string(p: number, q: number): void {
    const src = this.src;
    const out = this.out;
    let o = this.o;
    out[o++] = QUOTE;
    while (p < q) {
      let b = src[p++]!;
      if (b === BACKSLASH && p < q) {
        const e = src[p++]!;
        b = unescaped(e);
      }
      if (b >= 0x20 && b !== QUOTE && b !== BACKSLASH) {
        out[o++] = b;
        continue;
      }
      out[o++] = BACKSLASH;
      switch (b) {
        case QUOTE:
        case BACKSLASH:
          out[o++] = b;
          break;
        case 0x08:
          out[o++] = 0x62;
          break;
        case 0x0c:
          out[o++] = 0x66;
          break;
        case 0x0a:
          out[o++] = 0x6e;
          break;
        case 0x0d:
          out[o++] = 0x72;
          break;
        case 0x09:
          out[o++] = 0x74;
          break;
        default:
          // \u00XX in lowercase hex, as JSON.stringify writes the other control characters.
          out[o++] = 0x75;
          out[o++] = 0x30;
          out[o++] = 0x30;
          out[o++] = HEX.charCodeAt(b >> 4);
          out[o++] = HEX.charCodeAt(b & 15);
      }
    }
    out[o++] = QUOTE;
    this.o = o;
  }

  /** The field as the row path makes it: its text (COPY's escapes undone), converted, JSON.stringify'd. */
  private convert(i: number, p: number, q: number): void {
    const text = this.text(p, q);
    let value: unknown;
    try {
      const convert = this.converts[i];
      value = convert ? convert(text) : text;
    } catch (err) {
      const column = this.columns[i]!.name;
      throw new DataflowError(
        DataflowErrorCode.BAD_VALUE,
        `cannot read ${this.label}.${column} (row ${this.rows + 1}): ${err instanceof BadValue || err instanceof SyntaxError ? err.message : String(err)}`,
        { table: this.label, column, row: this.rows, cause: err },
      );
    }
    const json = JSON.stringify(value);
    this.ensure(3 * json.length);
    this.o += this.out.write(json, this.o);
  }

  private text(p: number, q: number): string {
    const src = this.src;
    let escaped = false;
    for (let k = p; k < q && !escaped; k++) escaped = src[k] === BACKSLASH;
    if (!escaped) return src.toString('utf8', p, q);
    const bytes = Buffer.allocUnsafe(q - p);
    let n = 0;
    while (p < q) {
      let b = src[p++]!;
      if (b === BACKSLASH && p < q) {
        const e = src[p++]!;
        b = unescaped(e);
      }
      bytes[n++] = b;
    }
    return bytes.toString('utf8', 0, n);
  }

  private fail(i: number, message: string): never {
    throw new DataflowError(
      DataflowErrorCode.READ_FAILED,
      `cannot read ${this.label} (row ${this.rows + 1}, column ${this.columns[i]!.name}): ${message}`,
      { table: this.label, row: this.rows },
    );
  }
}
