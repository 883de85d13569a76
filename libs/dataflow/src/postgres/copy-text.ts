import type { CanonicalType } from '../types/canonical-type';
import { BadValue, describeValue } from '../values/bad-value';
import { isBinaryValue } from '../values/canonical-values';
import { formatPgArray } from '../values/pg-array';

/**
 * Canonical value -> PostgreSQL text input form. Used unescaped for statement parameters and,
 * through copyEncoder, escaped for COPY ... FROM STDIN (text format). Encoders are built once
 * per column so the per-value work is a typeof check and a string.
 */
export type ToText = (v: unknown) => string;

const INT_RANGE: Record<number, [number, number]> = {
  8: [-32768, 32767],
  16: [-32768, 32767],
  24: [-2147483648, 2147483647],
  32: [-2147483648, 2147483647],
};
const INT_TEXT = /^[+-]?\d+$/;
const DECIMAL_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function integerToText(bits: number): ToText {
  const range = INT_RANGE[bits];
  return (v) => {
    if (typeof v === 'number') {
      if (!Number.isInteger(v)) throw new BadValue(`${describeValue(v)} is not an integer`);
      if (range && (v < range[0] || v > range[1]))
        throw new BadValue(`${v} is out of range for a ${bits === 8 || bits === 16 ? 'smallint' : 'integer'}`);
      return String(v);
    }
    if (typeof v === 'string' && INT_TEXT.test(v)) {
      const big = BigInt(v);
      const [lo, hi] = range ? [BigInt(range[0]), BigInt(range[1])] : [INT64_MIN, INT64_MAX];
      if (big < lo || big > hi) throw new BadValue(`${v} is out of range for a ${bits}-bit integer`);
      return big.toString();
    }
    if (typeof v === 'boolean') return v ? '1' : '0';
    throw new BadValue(`${describeValue(v)} is not an integer`);
  };
}

function decimalToText(v: unknown): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    return String(v);
  }
  if (typeof v === 'string' && (DECIMAL_TEXT.test(v) || v === 'NaN' || v === 'Infinity' || v === '-Infinity')) return v;
  if (typeof v === 'boolean') return v ? '1' : '0';
  throw new BadValue(`${describeValue(v)} is not a decimal number`);
}

function floatToText(v: unknown): string {
  if (typeof v === 'number')
    return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  if (typeof v === 'string' && (DECIMAL_TEXT.test(v) || v === 'NaN' || v === 'Infinity' || v === '-Infinity')) return v;
  throw new BadValue(`${describeValue(v)} is not a floating-point number`);
}

function booleanToText(v: unknown): string {
  if (v === true || v === 1 || v === 't' || v === 'true' || v === '1') return 't';
  if (v === false || v === 0 || v === 'f' || v === 'false' || v === '0') return 'f';
  throw new BadValue(`${describeValue(v)} is not a boolean`);
}

function textToText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  // A JSON value, set or array arriving in a text column (e.g. PostgreSQL text[] stored as MySQL JSON, back again).
  return JSON.stringify(v);
}

function stringToText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  throw new BadValue(`${describeValue(v)} is not a string`);
}

function bytes(v: unknown): Buffer {
  if (isBinaryValue(v)) return Buffer.from(v.$binary, 'base64');
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  throw new BadValue(`${describeValue(v)} is not binary ({"$binary": base64})`);
}

function binaryToText(v: unknown): string {
  return `\\x${bytes(v).toString('hex')}`;
}

function jsonToText(v: unknown): string {
  return JSON.stringify(v);
}

function setMembers(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return v === '' ? [] : v.split(',');
  throw new BadValue(`${describeValue(v)} is not a set (array of strings)`);
}

export function pgToText(type: CanonicalType): ToText {
  switch (type.kind) {
    case 'integer':
      if (type.bits === 64 && type.unsigned) return decimalToText;
      // PostgreSQL's only unsigned type is oid (32 bits): check it against the next wider range.
      return integerToText(type.unsigned ? type.bits * 2 : type.bits);
    case 'year':
      return integerToText(16);
    case 'decimal':
      return decimalToText;
    case 'float':
      return floatToText;
    case 'boolean':
      return booleanToText;
    case 'text':
    case 'other':
      return textToText;
    case 'binary':
      return binaryToText;
    case 'json':
      return jsonToText;
    case 'set':
      return (v) => formatPgArray(setMembers(v), textToText);
    case 'array': {
      const element = pgToText(type.element);
      const flat = type.element.kind === 'json';
      return (v) => {
        // An array that travelled as a JSON string (MySQL JSON column read as text).
        const arr = typeof v === 'string' && v.startsWith('[') ? (JSON.parse(v) as unknown) : v;
        if (!Array.isArray(arr)) throw new BadValue(`${describeValue(v)} is not an array`);
        return formatPgArray(arr, element, flat);
      };
    }
    // date, time, timestamp ('...Z' is accepted for both kinds: PostgreSQL ignores a zone for
    // timestamp without time zone, and sessions run in UTC), interval, uuid, enum, bit.
    default:
      return stringToText;
  }
}

// eslint-disable-next-line no-control-regex
const COPY_SPECIAL = /[\\\t\n\r\u0000]/;
// eslint-disable-next-line no-control-regex
const COPY_SPECIAL_ALL = /[\\\t\n\r\u0000]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** COPY text format escaping; PostgreSQL text cannot hold NUL, so a NUL is refused here, naming the column. */
export function copyEscape(s: string): string {
  if (!COPY_SPECIAL.test(s)) return s;
  if (s.includes('\u0000')) throw new BadValue('PostgreSQL text cannot contain NUL (\\u0000) characters');
  return s.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c]!);
}

/** Canonical value (never null) -> one COPY text field. */
export function copyEncoder(type: CanonicalType): ToText {
  switch (type.kind) {
    // Their text forms never contain a special character.
    case 'integer':
    case 'year':
    case 'float':
    case 'boolean':
      return pgToText(type);
    case 'decimal':
      // A string goes as it is (escaped, so it cannot break the row): the server checks the
      // number and names the column; this is the hot path of most tables.
      return (v) => (typeof v === 'string' ? copyEscape(v) : decimalToText(v));
    case 'binary':
      // The hex form's leading backslash is COPY's escape character: double it.
      return (v) => `\\\\x${bytes(v).toString('hex')}`;
    case 'text':
    case 'other':
    case 'date':
    case 'time':
    case 'timestamp':
    case 'interval':
    case 'uuid':
    case 'enum':
    case 'bit': {
      const toText = pgToText(type);
      return (v) => copyEscape(typeof v === 'string' ? v : toText(v));
    }
    default: {
      const toText = pgToText(type);
      return (v) => copyEscape(toText(v));
    }
  }
}
