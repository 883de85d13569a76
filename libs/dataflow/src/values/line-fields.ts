import { isUtf8 } from 'node:buffer';
import type { CanonicalType, ColumnSpec } from '../types/canonical-type';

/*
 * A chunk's NDJSON lines straight into the fields of a bulk load, byte by byte, without making the
 * rows JavaScript values first: MySQL's `LOAD DATA LOCAL INFILE` file (mysql/writer.ts) or
 * PostgreSQL's COPY text format (postgres/writer.ts). On the buffer paths the loading side spent
 * most of its CPU parsing every line with JSON.parse, checking the values, encoding each field and
 * collecting the garbage of all three (bench/README.md, data-transfer); here a line's bytes are read
 * once and its field bytes written once.
 *
 * This is a fast path, not a second set of rules: it takes only the forms whose output it knows to
 * be exactly what the row path (JSON.parse, rowChecker against the manifest, then `mysqlLiteral`
 * and `rowsFile`, or `copyEncoder` and COPY's text rows) makes of them, and gives up (`undefined`)
 * on anything else: a number with more digits than a double holds exactly, a string where a number
 * is, an escape it does not know, a value the manifest would refuse. The caller then writes those
 * rows by the row path, which accepts or refuses them as before. `test/line-fields.test.ts` checks
 * byte-equality with the row paths' text on a corpus of ordinary and hostile rows.
 */

/** mysql: LOAD DATA fields (',' between, strings quoted); postgres: COPY text fields (tabs, unquoted). */
export type LineDialect = 'mysql' | 'postgres';

type Rule =
  /** The range's ends as digits (the lowest without its sign): compared as text, so 64 bits are exact. */
  | { kind: 'integer'; lowest: Buffer; highest: Buffer; unsigned: boolean }
  | { kind: 'decimal' }
  | { kind: 'float' }
  | { kind: 'boolean' }
  | { kind: 'text'; maxChars: number }
  | { kind: 'date' }
  | { kind: 'timestamp' };

/** One rule per column, or undefined when a column's types are outside the fast path. */
function ruleFor(dialect: LineDialect, dest: CanonicalType, declared: CanonicalType | undefined): Rule | undefined {
  // The manifest's check and the destination's literal must both be the ones modelled here.
  if (declared && declared.kind !== dest.kind) return undefined;
  switch (dest.kind) {
    case 'integer': {
      const unsigned = dest.unsigned === true;
      if (dialect === 'postgres') {
        // pgToText: an unsigned 64-bit value goes as a decimal (any digits); others are checked
        // against the PostgreSQL type holding them (smallint, integer or bigint).
        if (unsigned && dest.bits === 64) {
          const any = Buffer.from('9'.repeat(20));
          return { kind: 'integer', lowest: any, highest: any, unsigned: false };
        }
        const bits = unsigned ? dest.bits * 2 : dest.bits;
        const half = 2n ** BigInt(bits <= 16 ? 15 : bits <= 32 ? 31 : 63);
        return {
          kind: 'integer',
          lowest: Buffer.from(String(half)),
          highest: Buffer.from(String(half - 1n)),
          unsigned: false,
        };
      }
      const bits = BigInt(dest.bits);
      const lowest = unsigned ? 0n : 2n ** (bits - 1n);
      const highest = unsigned ? 2n ** bits - 1n : 2n ** (bits - 1n) - 1n;
      return { kind: 'integer', lowest: Buffer.from(String(lowest)), highest: Buffer.from(String(highest)), unsigned };
    }
    case 'decimal':
      return { kind: 'decimal' };
    case 'float':
      // A 32-bit float is rounded from the double in the row paths (Math.fround, COPY binary), from
      // the decimal text by the server: not always the same float.
      return dest.bits === 64 ? { kind: 'float' } : undefined;
    case 'boolean':
      return { kind: 'boolean' };
    case 'text': {
      const max = declared?.kind === 'text' ? declared.maxLength : undefined;
      return { kind: 'text', maxChars: max ?? Infinity };
    }
    case 'date':
      return { kind: 'date' };
    case 'timestamp':
      return { kind: 'timestamp' };
    default:
      return undefined;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const APOSTROPHE = 0x27;
const COMMA = 0x2c;
const TAB = 0x09;
const NEWLINE = 0x0a;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

const EMPTY = Buffer.alloc(0);

function isDigit(b: number): boolean {
  return b >= ZERO && b <= NINE;
}

/**
 * The letter after a backslash for one character (code < 0x80), 0 for none, -1 for a character the
 * field cannot hold: quoteString's escapes (MySQL), copyEscape's (PostgreSQL, whose text has no NUL).
 */
function escapeOf(code: number, mysql: boolean): number {
  if (!mysql) {
    switch (code) {
      case BACKSLASH:
        return BACKSLASH;
      case 0x09:
        return 0x74; // \t
      case 0x0a:
        return 0x6e; // \n
      case 0x0d:
        return 0x72; // \r
      case 0x00:
        return -1;
      default:
        return 0;
    }
  }
  switch (code) {
    case 0x00:
      return 0x30; // \0
    case 0x0a:
      return 0x6e; // \n
    case 0x0d:
      return 0x72; // \r
    case 0x1a:
      return 0x5a; // \Z
    case APOSTROPHE:
      return APOSTROPHE;
    case BACKSLASH:
      return BACKSLASH;
    default:
      return 0;
  }
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}

/**
 * Transcodes whole lines. One instance per load statement; `lines` returns the file bytes of the
 * lines in [start, end) (each ending at a newline or at `end`), or undefined to give up on them.
 */
export class LineFields {
  /** Rows written by the last successful `lines`. */
  rows = 0;
  private src: Buffer = EMPTY;
  private out: Buffer = EMPTY;
  private scratch: Buffer = EMPTY;
  private o = 0;

  private constructor(
    /** MySQL's LOAD DATA fields: ',' between, strings quoted, booleans 1/0; else COPY text. */
    private readonly mysql: boolean,
    private readonly rules: Rule[],
    /** Whether the manifest lets each column hold null (the row path refuses null in a NOT NULL one). */
    private readonly nullable: boolean[],
  ) {}

  /** Undefined when a column's destination or declared type is outside the fast path. */
  static for(dialect: LineDialect, dest: CanonicalType[], declared: ColumnSpec[] | undefined): LineFields | undefined {
    if (declared && declared.length !== dest.length) return undefined;
    const rules: Rule[] = [];
    for (let i = 0; i < dest.length; i++) {
      const rule = ruleFor(dialect, dest[i]!, declared?.[i]?.type);
      if (!rule) return undefined;
      rules.push(rule);
    }
    const nullable = rules.map((_, i) => declared?.[i]?.nullable ?? true);
    return rules.length > 0 ? new LineFields(dialect === 'mysql', rules, nullable) : undefined;
  }

  lines(src: Buffer, start: number, end: number): Buffer | undefined {
    this.src = src;
    // Every input byte makes at most two output bytes (an apostrophe: \'), plus a last newline. The
    // fields are made in a scratch buffer kept between calls and the piece is an exact copy: a piece
    // sized for the worst case was twice the bytes, and this garbage (outside V8's heap, which makes
    // little other garbage on this path) was what the loading process held above its live data.
    const need = 2 * (end - start) + 2;
    if (this.scratch.length < need) this.scratch = Buffer.allocUnsafe(need);
    this.out = this.scratch;
    this.o = 0;
    let rows = 0;
    let p = start;
    while (p < end) {
      let eol = src.indexOf(NEWLINE, p);
      if (eol < 0 || eol > end) eol = end;
      // The row path skips empty lines.
      if (eol > p) {
        if (!this.line(p, eol)) return undefined;
        this.out[this.o++] = NEWLINE;
        rows++;
      }
      p = eol + 1;
    }
    this.rows = rows;
    const out = Buffer.allocUnsafe(this.o);
    this.scratch.copy(out, 0, 0, this.o);
    this.src = EMPTY;
    return out;
  }

  /** One row `[v1,v2,...]` exactly as JSON.stringify writes it (no spaces), into the file's fields. */
  private line(start: number, end: number): boolean {
    const src = this.src;
    if (src[start] !== 0x5b /* [ */ || src[end - 1] !== 0x5d /* ] */) return false;
    let p = start + 1;
    const last = end - 1;
    const n = this.rules.length;
    for (let i = 0; i < n; i++) {
      if (i > 0) this.out[this.o++] = this.mysql ? COMMA : TAB;
      p = this.value(this.rules[i]!, this.nullable[i]!, p, last);
      if (p < 0) return false;
      if (i < n - 1) {
        if (src[p] !== COMMA) return false;
        p++;
      }
    }
    return p === last;
  }

  /** Writes one value; returns the position after it, or -1 to give up. */
  private value(rule: Rule, nullable: boolean, p: number, end: number): number {
    const src = this.src;
    const b = src[p];
    if (b === 0x6e /* n */) {
      if (!nullable || p + 4 > end || src[p + 1] !== 0x75 || src[p + 2] !== 0x6c || src[p + 3] !== 0x6c) return -1;
      this.out[this.o++] = BACKSLASH;
      this.out[this.o++] = 0x4e; // \N
      return p + 4;
    }
    switch (rule.kind) {
      case 'integer':
        return b === QUOTE ? this.integerString(rule, p + 1, end) : this.integerNumber(rule, p, end);
      case 'decimal':
        return b === QUOTE ? this.decimalString(p + 1, end) : -1;
      case 'float':
        return b === QUOTE ? -1 : this.floatNumber(p, end);
      case 'boolean':
        if (b === 0x74 /* t */ && p + 4 <= end && src[p + 1] === 0x72 && src[p + 2] === 0x75 && src[p + 3] === 0x65) {
          this.out[this.o++] = this.mysql ? 0x31 : 0x74; // 1 or t
          return p + 4;
        }
        if (
          b === 0x66 /* f */ &&
          p + 5 <= end &&
          src[p + 1] === 0x61 &&
          src[p + 2] === 0x6c &&
          src[p + 3] === 0x73 &&
          src[p + 4] === 0x65
        ) {
          this.out[this.o++] = this.mysql ? 0x30 : 0x66; // 0 or f
          return p + 5;
        }
        return -1;
      case 'text':
        return b === QUOTE ? this.text(rule.maxChars, p + 1, end) : -1;
      case 'date':
        return b === QUOTE ? this.dateLike(p + 1, end, false) : -1;
      case 'timestamp':
        return b === QUOTE ? this.dateLike(p + 1, end, true) : -1;
    }
  }

  /**
   * Digits of an integer without sign quirks: `-`?, no leading zero, no `-0`, at most `max` digits.
   * Returns the end of the digits, or -1.
   */
  private digits(p: number, end: number, max: number): number {
    const src = this.src;
    const negative = src[p] === MINUS;
    const first = negative ? p + 1 : p;
    let q = first;
    while (q < end && isDigit(src[q]!)) q++;
    const count = q - first;
    if (count === 0 || count > max) return -1;
    if (src[first] === ZERO && (count > 1 || negative)) return -1;
    return q;
  }

  /** Short runs (numbers, dates) by hand: a native copy per field cost more than the bytes. */
  private copy(from: number, to: number): void {
    const src = this.src;
    const out = this.out;
    let o = this.o;
    for (let k = from; k < to; k++) out[o++] = src[k]!;
    this.o = o;
  }

  /** A JSON number that is an integer the row path writes as the same text (String(v)). */
  private integerNumber(rule: Extract<Rule, { kind: 'integer' }>, p: number, end: number): number {
    const q = this.digits(p, end, 15);
    if (q < 0) return -1;
    const next = this.src[q];
    // A fraction or an exponent: JSON.parse may still make it an integer, in other text.
    if (next === 0x2e || next === 0x65 || next === 0x45) return -1;
    if (!this.inRange(rule, p, q)) return -1;
    this.copy(p, q);
    return q;
  }

  /** A string of digits the row path writes as BigInt(v).toString(): the same text when canonical. */
  private integerString(rule: Extract<Rule, { kind: 'integer' }>, p: number, end: number): number {
    const q = this.digits(p, end, 20);
    if (q < 0 || this.src[q] !== QUOTE) return -1;
    if (!this.inRange(rule, p, q)) return -1;
    this.copy(p, q);
    return q + 1;
  }

  /** Canonical digits (no leading zero) against the range's ends, as text: longer is larger. */
  private inRange(rule: Extract<Rule, { kind: 'integer' }>, p: number, q: number): boolean {
    const src = this.src;
    const negative = src[p] === MINUS;
    if (negative && rule.unsigned) return false;
    const bound = negative ? rule.lowest : rule.highest;
    const from = negative ? p + 1 : p;
    const n = q - from;
    if (n !== bound.length) return n < bound.length;
    for (let k = 0; k < n; k++) {
      const d = src[from + k]! - bound[k]!;
      if (d !== 0) return d < 0;
    }
    return true;
  }

  /** A decimal string `-?digits(.digits)?`, written unquoted as the row path does. */
  private decimalString(p: number, end: number): number {
    const src = this.src;
    let q = src[p] === MINUS ? p + 1 : p;
    const intStart = q;
    while (q < end && isDigit(src[q]!)) q++;
    if (q === intStart) return -1;
    if (src[q] === 0x2e) {
      const fracStart = ++q;
      while (q < end && isDigit(src[q]!)) q++;
      if (q === fracStart) return -1;
    }
    if (src[q] !== QUOTE) return -1;
    this.copy(p, q);
    return q + 1;
  }

  /**
   * A JSON number for a DOUBLE column. JSON.stringify wrote it as String(v), so the row path's
   * String(JSON.parse(text)) is the same text; any other spelling of a finite number is read by the
   * server into the same double (both round correctly). Not -0 (String(-0) is "0"); an exponent only
   * as String(v) writes one (one integer digit) and within ±300, so the value is finite and normal.
   */
  private floatNumber(p: number, end: number): number {
    const src = this.src;
    let q = src[p] === MINUS ? p + 1 : p;
    const intStart = q;
    while (q < end && isDigit(src[q]!)) q++;
    const intDigits = q - intStart;
    if (intDigits === 0 || (src[intStart] === ZERO && intDigits > 1)) return -1;
    let nonZero = false;
    for (let k = intStart; k < q; k++) if (src[k] !== ZERO) nonZero = true;
    if (src[q] === 0x2e) {
      const fracStart = ++q;
      while (q < end && isDigit(src[q]!)) {
        if (src[q] !== ZERO) nonZero = true;
        q++;
      }
      if (q === fracStart) return -1;
    }
    if (!nonZero && src[p] === MINUS) return -1;
    // JSON.stringify writes no finite double longer than this without an exponent (309 digits overflow).
    if (q - p > 40) return -1;
    const next = src[q];
    if (next === 0x65 || next === 0x45) {
      if (intDigits !== 1 || !nonZero) return -1;
      q++;
      if (src[q] === 0x2b /* + */ || src[q] === MINUS) q++;
      const expStart = q;
      let exponent = 0;
      while (q < end && isDigit(src[q]!)) exponent = exponent * 10 + (src[q++]! - ZERO);
      if (q === expStart || q - expStart > 3 || exponent > 300) return -1;
    }
    this.copy(p, q);
    return q;
  }

  /** `YYYY-MM-DD`, or with `timestamp` `YYYY-MM-DD[ T]hh:mm:ss(.f{1,9})?Z?` written with a space and no Z. */
  private dateLike(p: number, end: number, timestamp: boolean): number {
    const src = this.src;
    // No closure here: this runs for every date of every row (and a bundler may wrap closures).
    if (p + 10 > end || !this.digitsAt(p, 4) || src[p + 4] !== MINUS || !this.digitsAt(p + 5, 2)) return -1;
    if (src[p + 7] !== MINUS || !this.digitsAt(p + 8, 2)) return -1;
    let q = p + 10;
    let z = false;
    if (timestamp) {
      const sep = src[q];
      if (sep !== 0x20 && sep !== 0x54 /* T */) return -1;
      if (p + 19 > end || !this.digitsAt(p + 11, 2) || src[p + 13] !== 0x3a || !this.digitsAt(p + 14, 2)) return -1;
      if (src[p + 16] !== 0x3a || !this.digitsAt(p + 17, 2)) return -1;
      q = p + 19;
      if (src[q] === 0x2e) {
        const fracStart = ++q;
        while (q < end && isDigit(src[q]!)) q++;
        if (q === fracStart || q - fracStart > 9) return -1;
      }
      if (src[q] === 0x5a /* Z */) {
        z = true;
        q++;
      }
    }
    if (src[q] !== QUOTE) return -1;
    if (!this.mysql) {
      // COPY takes the canonical text as it is ('T' and 'Z' included), as copyEncoder does.
      this.copy(p, q);
      return q + 1;
    }
    const out = this.out;
    out[this.o++] = APOSTROPHE;
    const at = this.o;
    this.copy(p, z ? q - 1 : q);
    // 'T' between date and time becomes a space, as the row path writes it.
    if (timestamp) out[at + 10] = 0x20;
    out[this.o++] = APOSTROPHE;
    return q + 1;
  }

  private digitsAt(p: number, count: number): boolean {
    const src = this.src;
    for (let k = p; k < p + count; k++) if (!isDigit(src[k]!)) return false;
    return true;
  }

  /**
   * A JSON string into a field: quoted with quoteString's escapes (MySQL) or with copyEscape's
   * (PostgreSQL). Characters are counted as the manifest's check counts them (code points). The
   * caller makes sure the chunk is valid UTF-8.
   */
  private text(maxChars: number, p: number, end: number): number {
    const src = this.src;
    const out = this.out;
    const mysql = this.mysql;
    let o = this.o;
    if (mysql) out[o++] = APOSTROPHE;
    let chars = 0;
    // Byte by byte into the output: most fields are short, and a native copy per run cost more.
    while (p < end) {
      const b = src[p]!;
      if (b > BACKSLASH) {
        // Letters and the rest of ASCII above the backslash, or UTF-8 (continuation bytes start no character).
        if (b < 0x80 || b >= 0xc0) chars++;
        out[o++] = b;
        p++;
        continue;
      }
      if (b === QUOTE) {
        if (mysql) out[o++] = APOSTROPHE;
        this.o = o;
        return chars > maxChars ? -1 : p + 1;
      }
      if (b < 0x20) return -1; // not JSON
      chars++;
      if (b === APOSTROPHE && mysql) {
        out[o++] = BACKSLASH;
        out[o++] = APOSTROPHE;
        p++;
      } else if (b === BACKSLASH) {
        this.o = o;
        p = this.escape(p + 1, end);
        if (p < 0) return -1;
        o = this.o;
      } else {
        out[o++] = b;
        p++;
      }
    }
    return -1;
  }

  /** One JSON escape (after its backslash) as the row path's file writes the character; the end, or -1. */
  private escape(p: number, end: number): number {
    const src = this.src;
    const out = this.out;
    const e = src[p];
    let code: number;
    switch (e) {
      case QUOTE:
      case 0x2f /* / */:
        out[this.o++] = e;
        return p + 1;
      case BACKSLASH:
        code = BACKSLASH;
        break;
      case 0x62 /* b */:
        code = 0x08;
        break;
      case 0x66 /* f */:
        code = 0x0c;
        break;
      case 0x6e /* n */:
        code = 0x0a;
        break;
      case 0x72 /* r */:
        code = 0x0d;
        break;
      case 0x74 /* t */:
        code = 0x09;
        break;
      case 0x75 /* u */: {
        const unit = this.hex4(p + 1, end);
        if (unit < 0) return -1;
        let q = p + 5;
        code = unit;
        if (unit >= 0xd800 && unit <= 0xdbff) {
          // A pair makes one character; a lone surrogate is not text the row path writes as it came.
          if (src[q] !== BACKSLASH || src[q + 1] !== 0x75) return -1;
          const low = this.hex4(q + 2, end);
          if (low < 0xdc00 || low > 0xdfff) return -1;
          code = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
          q += 6;
        } else if (unit >= 0xdc00 && unit <= 0xdfff) return -1;
        return this.codePoint(code) ? q : -1;
      }
      default:
        return -1;
    }
    return this.codePoint(code) ? p + 1 : -1;
  }

  private hex4(p: number, end: number): number {
    if (p + 4 > end) return -1;
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const h = hexValue(this.src[p + k]!);
      if (h < 0) return -1;
      v = (v << 4) | h;
    }
    return v;
  }

  /** False for a character the field cannot hold. */
  private codePoint(code: number): boolean {
    const out = this.out;
    if (code < 0x80) {
      const esc = escapeOf(code, this.mysql);
      if (esc < 0) return false;
      if (esc) {
        out[this.o++] = BACKSLASH;
        out[this.o++] = esc;
      } else out[this.o++] = code;
    } else if (code < 0x800) {
      out[this.o++] = 0xc0 | (code >> 6);
      out[this.o++] = 0x80 | (code & 0x3f);
    } else if (code < 0x10000) {
      out[this.o++] = 0xe0 | (code >> 12);
      out[this.o++] = 0x80 | ((code >> 6) & 0x3f);
      out[this.o++] = 0x80 | (code & 0x3f);
    } else {
      out[this.o++] = 0xf0 | (code >> 18);
      out[this.o++] = 0x80 | ((code >> 12) & 0x3f);
      out[this.o++] = 0x80 | ((code >> 6) & 0x3f);
      out[this.o++] = 0x80 | (code & 0x3f);
    }
    return true;
  }
}

/**
 * The fields for a chunk's lines, or undefined when they must go by rows: no rows, a column type
 * outside the fast path, or text that is not valid UTF-8 (the row path makes U+FFFD of invalid
 * bytes, Buffer#toString; only valid text is copied as bytes).
 */
export function lineFieldsFor(
  dialect: LineDialect,
  types: CanonicalType[],
  declared: ColumnSpec[] | undefined,
  lines: Buffer,
  rowCount: number,
): LineFields | undefined {
  if (rowCount === 0) return undefined;
  const fields = LineFields.for(dialect, types, declared);
  return fields && isUtf8(lines) ? fields : undefined;
}

/**
 * A text of whole lines as the fields of their rows, in pieces of about `pieceBytes` (each ending at
 * a line's end), for a load that sends the first piece while the next is made. Stops early, setting
 * `state.gaveUp`, at a piece the fast path gives up on; `state.rows` counts the rows of the pieces
 * made, `state.made` keeps them, for the writer to release once its statement is done.
 */
export function* linePieces(
  lines: Buffer,
  fields: LineFields,
  pieceBytes: number,
  state: { gaveUp: boolean; rows: number; made: Buffer[] },
): Generator<Buffer> {
  let start = 0;
  while (start < lines.length) {
    let end = lines.indexOf(0x0a, Math.min(start + pieceBytes, lines.length - 1));
    end = end < 0 ? lines.length : end + 1;
    const piece = fields.lines(lines, start, end);
    if (!piece) return void (state.gaveUp = true);
    state.rows += fields.rows;
    state.made.push(piece);
    yield piece;
    start = end;
  }
}
