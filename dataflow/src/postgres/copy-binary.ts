import { BadValue, describeValue } from '../values/bad-value';
import { isBinaryValue, normaliseDecimal } from '../values/canonical-values';

/**
 * COPY ... FROM STDIN (FORMAT binary) for tables whose every column is one of the base types
 * below. The server then skips its text parsers (numeric_in, float8in, timestamp_in and
 * DecodeDateTime are most of COPY's cost) and Node skips number-to-text conversions. Any other
 * column type (arrays, intervals, inet, bit strings, time with time zone...) makes the writer
 * use the text format for the whole table, so every type keeps one well-tested path.
 */
export const BINARY_BASE_TYPES = new Set(['bool', 'int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'text', 'varchar', 'bpchar', 'enum', 'bytea', 'date', 'time', 'timestamp', 'timestamptz', 'uuid', 'json', 'jsonb']);

/** PostgreSQL's epoch (2000-01-01) in days and seconds after 1970-01-01. */
const PG_EPOCH_DAYS = 10_957;
const TWO_32 = 4_294_967_296;

export const COPY_BINARY_HEADER = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
export const COPY_BINARY_TRAILER = Buffer.from([0xff, 0xff]);

/** A growing buffer the row encoders write into; `take()` hands the filled part to the stream. */
export class BinaryWriter {
  buf: Buffer;
  pos = 0;

  constructor(private readonly size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** The bytes written so far; the writer starts a fresh buffer (the stream keeps the old one). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.size);
    this.pos = 0;
    return out;
  }

  int16(v: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }

  int32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }

  /** A length-prefixed field holding `s` as UTF-8. */
  text(s: string): void {
    this.ensure(4 + s.length * 3);
    const n = this.buf.write(s, this.pos + 4);
    this.buf.writeInt32BE(n, this.pos);
    this.pos += 4 + n;
  }

  bytes(b: Buffer): void {
    this.ensure(4 + b.length);
    this.buf.writeInt32BE(b.length, this.pos);
    b.copy(this.buf, this.pos + 4);
    this.pos += 4 + b.length;
  }

  /** A length-prefixed int64 given as a safe integer. */
  int64Field(v: number): void {
    this.ensure(12);
    const p = this.pos;
    this.buf.writeInt32BE(8, p);
    const hi = Math.floor(v / TWO_32);
    this.buf.writeInt32BE(hi, p + 4);
    this.buf.writeUInt32BE(v - hi * TWO_32, p + 8);
    this.pos += 12;
  }

  bigint64Field(v: bigint): void {
    this.ensure(12);
    this.buf.writeInt32BE(8, this.pos);
    this.buf.writeBigInt64BE(v, this.pos + 4);
    this.pos += 12;
  }
}

export type BinaryEncoder = (w: BinaryWriter, v: unknown) => void;

const INT_TEXT = /^[+-]?\d+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function integer(bits: 16 | 32 | 64): BinaryEncoder {
  const lo = bits === 16 ? -32768 : -2147483648;
  const hi = bits === 16 ? 32767 : 2147483647;
  const label = bits === 16 ? 'smallint' : bits === 32 ? 'integer' : 'bigint';
  const toNumber = (v: unknown): number | bigint => {
    if (typeof v === 'number') {
      if (!Number.isInteger(v)) throw new BadValue(`${describeValue(v)} is not an integer`);
      return v;
    }
    if (typeof v === 'string' && INT_TEXT.test(v)) {
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : BigInt(v);
    }
    if (typeof v === 'boolean') return v ? 1 : 0;
    throw new BadValue(`${describeValue(v)} is not an integer`);
  };
  if (bits === 64) {
    return (w, v) => {
      const n = toNumber(v);
      if (typeof n === 'number') {
        if (Number.isSafeInteger(n)) return w.int64Field(n);
        throw new BadValue(`${n} is not exact as a number; give it as a decimal string`);
      }
      if (n < INT64_MIN || n > INT64_MAX) throw new BadValue(`${n} is out of range for a bigint`);
      w.bigint64Field(n);
    };
  }
  return (w, v) => {
    const n = toNumber(v);
    if (typeof n !== 'number' || n < lo || n > hi) throw new BadValue(`${String(n)} is out of range for a ${label}`);
    w.ensure(4 + bits / 8);
    w.buf.writeInt32BE(bits / 8, w.pos);
    if (bits === 16) w.buf.writeInt16BE(n, w.pos + 4);
    else w.buf.writeInt32BE(n, w.pos + 4);
    w.pos += 4 + bits / 8;
  };
}

function floatNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    const n = Number(v);
    if (v.trim() !== '' && !Number.isNaN(n)) return n;
  }
  throw new BadValue(`${describeValue(v)} is not a floating-point number`);
}

const float4: BinaryEncoder = (w, v) => {
  const n = floatNumber(v);
  // As float4in: a finite value that overflows or underflows single precision is an error, not inf/0.
  const f = Math.fround(n);
  if (Number.isFinite(n) && (!Number.isFinite(f) || (f === 0 && n !== 0))) throw new BadValue(`${n} is out of range for a real`);
  w.ensure(8);
  w.buf.writeInt32BE(4, w.pos);
  w.buf.writeFloatBE(n, w.pos + 4);
  w.pos += 8;
};

const float8: BinaryEncoder = (w, v) => {
  const n = floatNumber(v);
  w.ensure(12);
  w.buf.writeInt32BE(8, w.pos);
  w.buf.writeDoubleBE(n, w.pos + 4);
  w.pos += 12;
};

const bool: BinaryEncoder = (w, v) => {
  let b: number;
  if (v === true || v === 1 || v === 't' || v === 'true' || v === '1') b = 1;
  else if (v === false || v === 0 || v === 'f' || v === 'false' || v === '0') b = 0;
  else throw new BadValue(`${describeValue(v)} is not a boolean`);
  w.ensure(5);
  w.buf.writeInt32BE(1, w.pos);
  w.buf[w.pos + 4] = b;
  w.pos += 5;
};

const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_PINF = 0xd000;
const NUMERIC_NINF = 0xf000;

/**
 * numeric_send's layout: ndigits, weight (of the first base-10000 digit), sign, display scale,
 * then the base-10000 digits. The column's precision and scale are applied by the server.
 */
const numeric: BinaryEncoder = (w, v) => {
  let s: string;
  if (typeof v === 'number') s = Number.isFinite(v) ? (Number.isInteger(v) && Math.abs(v) < 1e21 ? String(v) : normaliseDecimal(v)) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  else if (typeof v === 'string') s = v;
  else if (typeof v === 'boolean') s = v ? '1' : '0';
  else throw new BadValue(`${describeValue(v)} is not a decimal number`);
  const special = s === 'NaN' ? NUMERIC_NAN : s === 'Infinity' ? NUMERIC_PINF : s === '-Infinity' ? NUMERIC_NINF : -1;
  if (special >= 0) {
    w.ensure(12);
    w.buf.writeInt32BE(8, w.pos);
    w.buf.writeInt16BE(0, w.pos + 4);
    w.buf.writeInt16BE(0, w.pos + 6);
    w.buf.writeUInt16BE(special, w.pos + 8);
    w.buf.writeInt16BE(0, w.pos + 10);
    w.pos += 12;
    return;
  }
  if (/[eE]/.test(s)) s = normaliseDecimal(s);
  let i = 0;
  let sign = NUMERIC_POS;
  if (s.charCodeAt(0) === 45 /* - */) {
    sign = NUMERIC_NEG;
    i = 1;
  } else if (s.charCodeAt(0) === 43 /* + */) i = 1;
  const dot = s.indexOf('.', i);
  const intEnd = dot < 0 ? s.length : dot;
  // Validate while locating the digits: only digits around at most one point.
  for (let k = i; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if ((c < 48 || c > 57) && k !== dot) throw new BadValue(`${describeValue(v)} is not a decimal number`);
  }
  if (intEnd - i === 0 && (dot < 0 || dot === s.length - 1)) throw new BadValue(`${describeValue(v)} is not a decimal number`);
  while (i < intEnd - 1 && s.charCodeAt(i) === 48) i++;
  const intDigits = s.slice(i, intEnd);
  const fracDigits = dot < 0 ? '' : s.slice(dot + 1);
  const dscale = fracDigits.length;
  const intPadded = '0'.repeat((4 - (intDigits.length % 4)) % 4) + intDigits;
  const fracPadded = fracDigits + '0'.repeat((4 - (fracDigits.length % 4)) % 4);
  const all = intPadded + fracPadded;
  const digits: number[] = [];
  for (let k = 0; k < all.length; k += 4) digits.push(Number(all.slice(k, k + 4)));
  let weight = intPadded.length / 4 - 1;
  let start = 0;
  let end = digits.length;
  while (start < end && digits[start] === 0) {
    start++;
    weight--;
  }
  while (end > start && digits[end - 1] === 0) end--;
  const n = end - start;
  if (n === 0) {
    weight = 0;
    sign = NUMERIC_POS;
  }
  w.ensure(12 + n * 2);
  w.buf.writeInt32BE(8 + n * 2, w.pos);
  w.buf.writeInt16BE(n, w.pos + 4);
  w.buf.writeInt16BE(weight, w.pos + 6);
  w.buf.writeUInt16BE(sign, w.pos + 8);
  w.buf.writeInt16BE(dscale, w.pos + 10);
  let p = w.pos + 12;
  for (let k = start; k < end; k++, p += 2) w.buf.writeInt16BE(digits[k]!, p);
  w.pos = p;
};

function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

const text: BinaryEncoder = (w, v) => w.text(textOf(v));

/** jsonb_send's layout: a version byte (1), then the JSON text. */
const jsonb: BinaryEncoder = (w, v) => {
  const s = JSON.stringify(v);
  w.ensure(5 + s.length * 3);
  const n = w.buf.write(s, w.pos + 5);
  w.buf.writeInt32BE(n + 1, w.pos);
  w.buf[w.pos + 4] = 1;
  w.pos += 5 + n;
};

const json: BinaryEncoder = (w, v) => w.text(JSON.stringify(v));

const bytea: BinaryEncoder = (w, v) => {
  if (isBinaryValue(v)) return w.bytes(Buffer.from(v.$binary, 'base64'));
  if (Buffer.isBuffer(v)) return w.bytes(v);
  if (typeof v === 'string') return w.text(v);
  throw new BadValue(`${describeValue(v)} is not binary ({"$binary": base64})`);
};

const uuid: BinaryEncoder = (w, v) => {
  const hex = typeof v === 'string' ? v.replace(/-/g, '') : '';
  if (hex.length !== 32 || !/^[0-9a-fA-F]{32}$/.test(hex)) throw new BadValue(`${describeValue(v)} is not a uuid`);
  w.ensure(20);
  w.buf.writeInt32BE(16, w.pos);
  w.buf.write(hex, w.pos + 4, 16, 'hex');
  w.pos += 20;
};

/** Days from 1970-01-01 of a proleptic Gregorian date (any year, astronomical numbering). */
function civilDays(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  return era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

interface Parsed {
  /** Days after 2000-01-01. */
  days: number;
  /** Seconds into the day, and microseconds. */
  seconds: number;
  micros: number;
  /** Seconds east of UTC given with the value (0 when none). */
  offset: number;
}

function digitsAt(s: string, start: number, count: number): number {
  let n = 0;
  for (let k = start; k < start + count; k++) {
    const c = s.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * Canonical dates and timestamps: 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS[.ffffff]', a 'T' instead of
 * the space, then 'Z' or '+HH[:MM]', and ' BC'. Anything else is refused rather than guessed.
 */
function parseDateTime(v: unknown, withTime: boolean): Parsed {
  if (typeof v !== 'string') throw new BadValue(`${describeValue(v)} is not a date/time string`);
  let s = v;
  let bc = false;
  if (s.endsWith(' BC')) {
    bc = true;
    s = s.slice(0, -3);
  }
  const dash = s.indexOf('-', 1);
  const year = digitsAt(s, 0, dash);
  const month = digitsAt(s, dash + 1, 2);
  const day = digitsAt(s, dash + 4, 2);
  if (dash < 4 || year < 0 || s[dash + 3] !== '-' || month < 1 || month > 12 || day < 1) throw new BadValue(`${describeValue(v)} is not a date`);
  const y = bc ? 1 - year : year;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  if (day > (month === 2 && leap ? 29 : MONTH_DAYS[month - 1]!)) throw new BadValue(`${describeValue(v)} is not a date`);
  const days = civilDays(y, month, day) - PG_EPOCH_DAYS;
  const i = dash + 6;
  if (i === s.length) return { days, seconds: 0, micros: 0, offset: 0 };
  if (!withTime || (s[i] !== ' ' && s[i] !== 'T')) throw new BadValue(`${describeValue(v)} is not a ${withTime ? 'timestamp' : 'date'}`);
  const t = parseTime(s, i + 1, v);
  return { days, ...t };
}

function parseTime(s: string, i: number, original: unknown): Omit<Parsed, 'days'> {
  const h = digitsAt(s, i, 2);
  const mi = digitsAt(s, i + 3, 2);
  const sec = digitsAt(s, i + 6, 2);
  if (h < 0 || mi < 0 || sec < 0 || s[i + 2] !== ':' || s[i + 5] !== ':' || h > 24 || mi > 59 || sec > 59 || (h === 24 && (mi > 0 || sec > 0))) {
    throw new BadValue(`${describeValue(original)} is not a time`);
  }
  let k = i + 8;
  let micros = 0;
  if (s[k] === '.') {
    k++;
    let scale = 100_000;
    let digits = 0;
    while (k < s.length && s.charCodeAt(k) >= 48 && s.charCodeAt(k) <= 57) {
      // Beyond microseconds PostgreSQL rounds; so does this.
      if (digits < 6) micros += (s.charCodeAt(k) - 48) * scale;
      else if (digits === 6 && s.charCodeAt(k) >= 53) micros += 1;
      scale /= 10;
      digits++;
      k++;
    }
  }
  let offset = 0;
  if (k < s.length) {
    const c = s[k];
    if (c === 'Z' && k === s.length - 1) offset = 0;
    else if (c === '+' || c === '-') {
      const oh = digitsAt(s, k + 1, 2);
      const om = s.length > k + 3 ? digitsAt(s, s[k + 3] === ':' ? k + 4 : k + 3, 2) : 0;
      if (oh < 0 || om < 0) throw new BadValue(`${describeValue(original)} has a malformed time zone offset`);
      offset = (c === '-' ? -1 : 1) * (oh * 3600 + om * 60);
    } else throw new BadValue(`${describeValue(original)} is not a time`);
  }
  return { seconds: h * 3600 + mi * 60 + sec, micros, offset };
}

/** 'infinity' / '-infinity' as int64 (timestamps) or int32 (dates) extremes. */
function infinity(v: unknown): 1 | -1 | 0 {
  return v === 'infinity' ? 1 : v === '-infinity' ? -1 : 0;
}

const date: BinaryEncoder = (w, v) => {
  const inf = infinity(v);
  const days = inf ? (inf > 0 ? 2147483647 : -2147483648) : parseDateTime(v, false).days;
  w.ensure(8);
  w.buf.writeInt32BE(4, w.pos);
  w.buf.writeInt32BE(days, w.pos + 4);
  w.pos += 8;
};

function timestamp(withTimeZone: boolean): BinaryEncoder {
  return (w, v) => {
    const inf = infinity(v);
    if (inf) return w.bigint64Field(inf > 0 ? INT64_MAX : INT64_MIN);
    const p = parseDateTime(v, true);
    // A wall-clock column ignores an offset (as PostgreSQL's text input does); an instant applies it.
    const seconds = p.days * 86_400 + p.seconds - (withTimeZone ? p.offset : 0);
    // Exact as a double within ±285 years of 2000; beyond that, BigInt.
    if (Math.abs(seconds) < 9_000_000_000) return w.int64Field(seconds * 1_000_000 + p.micros);
    w.bigint64Field(BigInt(seconds) * 1_000_000n + BigInt(p.micros));
  };
}

const time: BinaryEncoder = (w, v) => {
  if (typeof v !== 'string') throw new BadValue(`${describeValue(v)} is not a time string`);
  const t = parseTime(v, 0, v);
  if (t.offset !== 0) throw new BadValue(`${describeValue(v)} has a time zone offset; the column is time without time zone`);
  w.int64Field(t.seconds * 1_000_000 + t.micros);
};

/** Encoder for a column of this base type (see BINARY_BASE_TYPES). */
export function binaryEncoder(base: string): BinaryEncoder {
  switch (base) {
    case 'bool':
      return bool;
    case 'int2':
      return integer(16);
    case 'int4':
      return integer(32);
    case 'int8':
      return integer(64);
    case 'float4':
      return float4;
    case 'float8':
      return float8;
    case 'numeric':
      return numeric;
    case 'bytea':
      return bytea;
    case 'date':
      return date;
    case 'time':
      return time;
    case 'timestamp':
      return timestamp(false);
    case 'timestamptz':
      return timestamp(true);
    case 'uuid':
      return uuid;
    case 'json':
      return json;
    case 'jsonb':
      return jsonb;
    // text, varchar, bpchar, enum: the text bytes.
    default:
      return text;
  }
}
