import type { CanonicalType } from '../types/canonical-type';
import { BadValue, describeValue } from '../values/bad-value';
import { isBinaryValue, normaliseDecimal } from '../values/canonical-values';

/**
 * Canonical value (never null) -> MySQL SQL literal for a column of the given type. Inserts are
 * built as text (multi-row VALUES lists sized to max_allowed_packet), so every value goes
 * through here: strings quoted with backslash escapes (sessions run without
 * NO_BACKSLASH_ESCAPES, see pool.ts), bytes as hex literals, numbers checked before they are
 * spliced in unquoted.
 */
export type ToLiteral = (v: unknown) => string;

// eslint-disable-next-line no-control-regex
const SPECIAL = /[\u0000\n\r\u001a'\\]/;
// eslint-disable-next-line no-control-regex
const SPECIAL_ALL = /[\u0000\n\r\u001a'\\]/g;
const ESCAPES: Record<string, string> = {
  '\u0000': '\\0',
  '\n': '\\n',
  '\r': '\\r',
  '\u001a': '\\Z',
  "'": "\\'",
  '\\': '\\\\',
};

export function quoteString(s: string): string {
  return SPECIAL.test(s) ? `'${s.replace(SPECIAL_ALL, (c) => ESCAPES[c]!)}'` : `'${s}'`;
}

const INT_TEXT = /^[+-]?\d+$/;
const DECIMAL_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function intRange(bits: number, unsigned: boolean): [bigint, bigint] {
  return unsigned ? [0n, 2n ** BigInt(bits) - 1n] : [-(2n ** BigInt(bits - 1)), 2n ** BigInt(bits - 1) - 1n];
}

function integerLiteral(bits: number, unsigned: boolean): ToLiteral {
  const [lo, hi] = intRange(bits, unsigned);
  const nlo = Number(lo);
  const nhi = Number(hi);
  const label = `${unsigned ? 'unsigned ' : ''}${bits}-bit integer`;
  return (v) => {
    if (typeof v === 'number') {
      if (!Number.isInteger(v)) throw new BadValue(`${describeValue(v)} is not an integer`);
      if (v < nlo || v > nhi) throw new BadValue(`${v} is out of range for an ${label}`);
      return String(v);
    }
    if (typeof v === 'string' && INT_TEXT.test(v)) {
      const b = BigInt(v);
      if (b < lo || b > hi) throw new BadValue(`${v} is out of range for an ${label}`);
      return b.toString();
    }
    if (typeof v === 'boolean') return v ? '1' : '0';
    throw new BadValue(`${describeValue(v)} is not an integer`);
  };
}

function decimalLiteral(v: unknown): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new BadValue(`MySQL DECIMAL cannot hold ${String(v)}`);
    // An exponent would make MySQL read a DOUBLE and round it.
    const s = String(v);
    return /e/i.test(s) ? normaliseDecimal(v) : s;
  }
  if (typeof v === 'string') {
    if (DECIMAL_TEXT.test(v)) return /e/i.test(v) ? normaliseDecimal(v) : v;
    if (/^[+-]?(NaN|Infinity)$/.test(v)) throw new BadValue(`MySQL DECIMAL cannot hold ${v}`);
  }
  if (typeof v === 'boolean') return v ? '1' : '0';
  throw new BadValue(`${describeValue(v)} is not a decimal number`);
}

function floatLiteral(v: unknown): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new BadValue(`MySQL FLOAT/DOUBLE cannot hold ${String(v)}`);
    return String(v);
  }
  return floatText(v);
}

/**
 * A FLOAT gets the exact value of the float32 the canonical number stands for: the shortest
 * form of the largest float (3.4028235e38) is above FLT_MAX as a decimal and MySQL refuses it.
 */
function float32Literal(v: unknown): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new BadValue(`MySQL FLOAT cannot hold ${String(v)}`);
    return String(Math.fround(v));
  }
  return floatText(v);
}

function floatText(v: unknown): string {
  if (typeof v === 'string') {
    if (DECIMAL_TEXT.test(v)) return v;
    if (/^[+-]?(NaN|Infinity)$/.test(v)) throw new BadValue(`MySQL FLOAT/DOUBLE cannot hold ${v}`);
  }
  throw new BadValue(`${describeValue(v)} is not a floating-point number`);
}

function booleanLiteral(v: unknown): string {
  if (v === true || v === 1 || v === 't' || v === 'true' || v === '1') return '1';
  if (v === false || v === 0 || v === 'f' || v === 'false' || v === '0') return '0';
  throw new BadValue(`${describeValue(v)} is not a boolean`);
}

function textLiteral(v: unknown): string {
  if (typeof v === 'string') return quoteString(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return quoteString(String(v));
  if (isBinaryValue(v)) return `X'${Buffer.from(v.$binary, 'base64').toString('hex')}'`;
  return quoteString(JSON.stringify(v));
}

function binaryLiteral(v: unknown): string {
  if (isBinaryValue(v)) return `X'${Buffer.from(v.$binary, 'base64').toString('hex')}'`;
  if (Buffer.isBuffer(v)) return `X'${v.toString('hex')}'`;
  if (typeof v === 'string') return `X'${Buffer.from(v, 'utf8').toString('hex')}'`;
  throw new BadValue(`${describeValue(v)} is not binary ({"$binary": base64})`);
}

/** Values MySQL has no room for: PostgreSQL's infinities and BC dates. */
function dateLike(v: unknown): string {
  if (typeof v !== 'string') throw new BadValue(`${describeValue(v)} is not a date/time string`);
  if (v === 'infinity' || v === '-infinity' || v.endsWith(' BC')) throw new BadValue(`MySQL cannot hold the date ${v}`);
  return v;
}

/** '2022-01-01T10:00:00.5Z' (an instant, UTC) -> '2022-01-01 10:00:00.5': the session is in UTC. */
function timestampLiteral(v: unknown): string {
  let s = dateLike(v);
  if (s.length > 10 && s.charCodeAt(10) === 84 /* T */) s = `${s.slice(0, 10)} ${s.slice(11)}`;
  if (s.endsWith('Z')) s = s.slice(0, -1);
  return quoteString(s);
}

function jsonLiteral(v: unknown): string {
  return quoteString(JSON.stringify(v));
}

function setLiteral(v: unknown): string {
  if (Array.isArray(v)) return quoteString(v.join(','));
  if (typeof v === 'string') return quoteString(v);
  throw new BadValue(`${describeValue(v)} is not a set (array of strings)`);
}

function bitLiteral(v: unknown): string {
  if (typeof v === 'string' && /^[01]+$/.test(v)) return `b'${v}'`;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return String(v);
  if (typeof v === 'boolean') return v ? "b'1'" : "b'0'";
  return binaryLiteral(v);
}

export function mysqlLiteral(type: CanonicalType): ToLiteral {
  switch (type.kind) {
    case 'integer':
      return integerLiteral(type.bits, type.unsigned === true);
    case 'year':
      return integerLiteral(16, false);
    case 'decimal':
      return decimalLiteral;
    case 'float':
      return type.bits === 32 ? float32Literal : floatLiteral;
    case 'boolean':
      return booleanLiteral;
    case 'binary':
      return binaryLiteral;
    case 'date':
    case 'time':
      return (v) => quoteString(dateLike(v));
    case 'timestamp':
      return timestampLiteral;
    case 'json':
    case 'array':
      return jsonLiteral;
    case 'set':
      return setLiteral;
    case 'bit':
      return bitLiteral;
    // text, enum, uuid, interval, other
    default:
      return textLiteral;
  }
}
