import { BadValue, describeValue } from '../values/bad-value';
import { isBinaryValue, normaliseDecimal } from '../values/canonical-values';

/**
 * COPY ... FROM STDIN (FORMAT binary) for tables whose every column is one of the base types
 * below. The server then skips its text parsers (numeric_in, float8in, timestamp_in and
 * DecodeDateTime are most of COPY's cost) and Node skips number-to-text conversions. Any other
 * column type (arrays, intervals, inet, bit strings, time with time zone...) makes the writer
 * use the text format for the whole table, so every type keeps one well-tested path.
 */
export const BINARY_BASE_TYPES = new Set([
  'bool',
  'int2',
  'int4',
  'int8',
  'float4',
  'float8',
  'numeric',
  'text',
  'varchar',
  'bpchar',
  'enum',
  'bytea',
  'date',
  'time',
  'timestamp',
  'timestamptz',
  'uuid',
  'json',
  'jsonb',
]);

/** PostgreSQL's epoch (2000-01-01) in days and seconds after 1970-01-01. */
const PG_EPOCH_DAYS = 10_957;
const TWO_32 = 4_294_967_296;

export const COPY_BINARY_HEADER = Buffer.from([
  0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
]);
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
    const len = s.length;
    this.ensure(4 + len * 3);
    const buf = this.buf;
    const start = this.pos + 4;
    // Short ASCII strings: copying code units beats the native UTF-8 encoder's call overhead.
    if (len < 48) {
      let k = 0;
      for (; k < len; k++) {
        const c = s.charCodeAt(k);
        if (c > 0x7f) break;
        buf[start + k] = c;
      }
      if (k === len) {
        buf.writeInt32BE(len, this.pos);
        this.pos = start + len;
        return;
      }
    }
    const n = buf.write(s, start);
    buf.writeInt32BE(n, this.pos);
    this.pos = start + n;
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
      let n = toNumber(v);
      if (typeof n === 'number') {
        if (Number.isSafeInteger(n)) return w.int64Field(n);
        // An integral double past 2^53: its exact value, as the text format would send it.
        n = BigInt(n);
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
  if (Number.isFinite(n) && (!Number.isFinite(f) || (f === 0 && n !== 0)))
    throw new BadValue(`${n} is out of range for a real`);
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

/** Base-10000 digits of the numeric being encoded (reused: numerics are encoded one at a time). */
let numericDigits = new Int16Array(64);

/**
 * numeric_send's layout: ndigits, weight (of the first base-10000 digit), sign, display scale,
 * then the base-10000 digits. The column's precision and scale are applied by the server.
 */
const numeric: BinaryEncoder = (w, v) => {
  let s: string;
  if (typeof v === 'number')
    s = Number.isFinite(v)
      ? Number.isInteger(v) && Math.abs(v) < 1e21
        ? String(v)
        : normaliseDecimal(v)
      : Number.isNaN(v)
        ? 'NaN'
        : v > 0
          ? 'Infinity'
          : '-Infinity';
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
  if (s.indexOf('e') >= 0 || s.indexOf('E') >= 0) s = normaliseDecimal(s);
  const len = s.length;
  let i = 0;
  let sign = NUMERIC_POS;
  const first = s.charCodeAt(0);
  if (first === 45 /* - */) {
    sign = NUMERIC_NEG;
    i = 1;
  } else if (first === 43 /* + */) i = 1;
  let dot = -1;
  for (let k = i; k < len; k++) {
    const c = s.charCodeAt(k);
    if (c === 46 && dot < 0) dot = k;
    else if (c < 48 || c > 57) throw new BadValue(`${describeValue(v)} is not a decimal number`);
  }
  const intEnd = dot < 0 ? len : dot;
  if (intEnd === i && (dot < 0 || dot === len - 1)) throw new BadValue(`${describeValue(v)} is not a decimal number`);
  while (i < intEnd && s.charCodeAt(i) === 48) i++;
  const intLen = intEnd - i;
  const fracStart = dot < 0 ? len : dot + 1;
  const dscale = len - fracStart;
  // Integer digits right-aligned in groups of 4, fraction digits left-aligned.
  const intGroups = Math.ceil(intLen / 4);
  const total = intGroups + Math.ceil(dscale / 4);
  if (numericDigits.length < total) numericDigits = new Int16Array(total * 2);
  const d = numericDigits;
  let g = 0;
  let acc = 0;
  let inGroup = intLen - (intGroups - 1) * 4;
  for (let k = i; k < intEnd; k++) {
    acc = acc * 10 + (s.charCodeAt(k) - 48);
    if (--inGroup === 0) {
      d[g++] = acc;
      acc = 0;
      inGroup = 4;
    }
  }
  inGroup = 4;
  for (let k = fracStart; k < len; k++) {
    acc = acc * 10 + (s.charCodeAt(k) - 48);
    if (--inGroup === 0) {
      d[g++] = acc;
      acc = 0;
      inGroup = 4;
    }
  }
  if (inGroup !== 4) {
    while (inGroup-- > 0) acc *= 10;
    d[g++] = acc;
  }
  let weight = intGroups - 1;
  let from = 0;
  let to = g;
  while (from < to && d[from] === 0) {
    from++;
    weight--;
  }
  while (to > from && d[to - 1] === 0) to--;
  const n = to - from;
  if (n === 0) {
    weight = 0;
    sign = NUMERIC_POS;
  }
  w.ensure(12 + n * 2);
  const buf = w.buf;
  let p = w.pos;
  buf.writeInt32BE(8 + n * 2, p);
  buf.writeInt16BE(n, p + 4);
  buf.writeInt16BE(weight, p + 6);
  buf.writeUInt16BE(sign, p + 8);
  buf.writeInt16BE(dscale, p + 10);
  p += 12;
  for (let k = from; k < to; k++, p += 2) buf.writeInt16BE(d[k]!, p);
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

/*
 * The parsers below leave their result in these (no object per value: this runs for every
 * date and timestamp of a batch).
 */
/** Days after 2000-01-01. */
let parsedDays = 0;
/** Seconds into the day and microseconds. */
let parsedSeconds = 0;
let parsedMicros = 0;
/** Seconds east of UTC given with the value (0 when none). */
let parsedOffset = 0;

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
function parseDateTime(v: unknown, withTime: boolean): void {
  if (typeof v !== 'string') throw new BadValue(`${describeValue(v)} is not a date/time string`);
  let s = v;
  let bc = false;
  if (s.charCodeAt(s.length - 1) === 67 /* C */ && s.endsWith(' BC')) {
    bc = true;
    s = s.slice(0, -3);
  }
  const dash = s.charCodeAt(4) === 45 ? 4 : s.indexOf('-', 1);
  const year = digitsAt(s, 0, dash);
  const month = digitsAt(s, dash + 1, 2);
  const day = digitsAt(s, dash + 4, 2);
  if (dash < 4 || year < 0 || s.charCodeAt(dash + 3) !== 45 || month < 1 || month > 12 || day < 1)
    throw new BadValue(`${describeValue(v)} is not a date`);
  const y = bc ? 1 - year : year;
  if (
    day > 28 &&
    day > (month === 2 ? ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28) : MONTH_DAYS[month - 1]!)
  )
    throw new BadValue(`${describeValue(v)} is not a date`);
  parsedDays = civilDays(y, month, day) - PG_EPOCH_DAYS;
  const i = dash + 6;
  if (i === s.length) {
    parsedSeconds = 0;
    parsedMicros = 0;
    parsedOffset = 0;
    return;
  }
  const sep = s.charCodeAt(i);
  if (!withTime || (sep !== 32 && sep !== 84))
    throw new BadValue(`${describeValue(v)} is not a ${withTime ? 'timestamp' : 'date'}`);
  parseTime(s, i + 1, v);
}

function parseTime(s: string, i: number, original: unknown): void {
  const h = digitsAt(s, i, 2);
  const mi = digitsAt(s, i + 3, 2);
  const sec = digitsAt(s, i + 6, 2);
  if (
    h < 0 ||
    mi < 0 ||
    sec < 0 ||
    s.charCodeAt(i + 2) !== 58 ||
    s.charCodeAt(i + 5) !== 58 ||
    h > 24 ||
    mi > 59 ||
    sec > 59 ||
    (h === 24 && (mi > 0 || sec > 0))
  ) {
    throw new BadValue(`${describeValue(original)} is not a time`);
  }
  let k = i + 8;
  let micros = 0;
  if (s.charCodeAt(k) === 46 /* . */) {
    const from = ++k;
    while (k < s.length && s.charCodeAt(k) >= 48 && s.charCodeAt(k) <= 57) k++;
    if (k - from <= 6) {
      let scale = 100_000;
      for (let j = from; j < k; j++, scale /= 10) micros += (s.charCodeAt(j) - 48) * scale;
    } else {
      // Beyond microseconds PostgreSQL reads the fraction as a double and rounds it with rint.
      const x = Number(`0.${s.slice(from, k)}`) * 1_000_000;
      const r = Math.round(x);
      micros = r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
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
  parsedSeconds = h * 3600 + mi * 60 + sec;
  parsedMicros = micros;
  parsedOffset = offset;
}

/** 'infinity' / '-infinity' as int64 (timestamps) or int32 (dates) extremes. */
function infinity(v: unknown): 1 | -1 | 0 {
  return typeof v === 'string' && v.length < 10 ? (v === 'infinity' ? 1 : v === '-infinity' ? -1 : 0) : 0;
}

const date: BinaryEncoder = (w, v) => {
  const inf = infinity(v);
  let days: number;
  if (inf) days = inf > 0 ? 2147483647 : -2147483648;
  else {
    parseDateTime(v, false);
    days = parsedDays;
  }
  w.ensure(8);
  w.buf.writeInt32BE(4, w.pos);
  w.buf.writeInt32BE(days, w.pos + 4);
  w.pos += 8;
};

function timestamp(withTimeZone: boolean): BinaryEncoder {
  return (w, v) => {
    const inf = infinity(v);
    if (inf) return w.bigint64Field(inf > 0 ? INT64_MAX : INT64_MIN);
    parseDateTime(v, true);
    // A wall-clock column ignores an offset (as PostgreSQL's text input does); an instant applies it.
    const seconds = parsedDays * 86_400 + parsedSeconds - (withTimeZone ? parsedOffset : 0);
    // Exact as a double within ±285 years of 2000; beyond that, BigInt.
    if (Math.abs(seconds) < 9_000_000_000) return w.int64Field(seconds * 1_000_000 + parsedMicros);
    w.bigint64Field(BigInt(seconds) * 1_000_000n + BigInt(parsedMicros));
  };
}

const time: BinaryEncoder = (w, v) => {
  if (typeof v !== 'string') throw new BadValue(`${describeValue(v)} is not a time string`);
  parseTime(v, 0, v);
  if (parsedOffset !== 0 || /[Z+-]/.test(v))
    throw new BadValue(`${describeValue(v)} has a time zone offset; the column is time without time zone`);
  w.int64Field(parsedSeconds * 1_000_000 + parsedMicros);
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
