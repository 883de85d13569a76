import type { CanonicalType } from '../types/canonical-type';

/**
 * Canonical ("wire") values: JSON-safe and identical for the same logical value whatever the
 * source dialect. The formats are listed in the README; the helpers here are the pieces both
 * dialects' readers share.
 */

export interface BinaryValue {
  $binary: string;
}

export function isBinaryValue(v: unknown): v is BinaryValue {
  return typeof v === 'object' && v !== null && typeof (v as BinaryValue).$binary === 'string';
}

/** Integers outside ±(2^53-1) travel as decimal strings so no digit is lost. */
export function integerValue(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

/**
 * Fractional seconds without trailing zeros, and none at all when zero: PostgreSQL prints them
 * that way, MySQL pads to the column's precision ('10:00:00.000100', '.000').
 */
export function trimFraction(s: string): string {
  const dot = s.indexOf('.');
  if (dot < 0) return s;
  // Only the digit run after the point: a '+05:30' offset or a 'Z' may follow it.
  let end = dot + 1;
  while (end < s.length && s.charCodeAt(end) >= 48 && s.charCodeAt(end) <= 57) end++;
  let cut = end;
  while (cut > dot + 1 && s.charCodeAt(cut - 1) === 48) cut--;
  if (cut === dot + 1) cut = dot;
  return cut === end ? s : s.slice(0, cut) + s.slice(end);
}

/**
 * The shortest decimal that reads back as the same single-precision float. MySQL prints FLOAT
 * with 6 significant digits (lossy), so FLOAT columns are selected as DOUBLE and narrowed here;
 * PostgreSQL prints real this way already.
 */
export function float32Value(x: number): number {
  const f = Math.fround(x);
  if (!Number.isFinite(f) || f === 0) return f;
  for (let p = 1; p < 10; p++) {
    const y = Number(f.toPrecision(p));
    if (Math.fround(y) === f) return y;
  }
  return f;
}

/** Floats that JSON cannot carry travel as these strings. */
export function floatValue(n: number): number | string {
  if (Number.isFinite(n)) return n;
  if (Number.isNaN(n)) return 'NaN';
  return n > 0 ? 'Infinity' : '-Infinity';
}

/** '00012.3400' -> '12.34', '-0.0' -> '0', '1e3' -> '1000'-style comparisons need exactness, so exponent forms are expanded. */
export function normaliseDecimal(value: string | number): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    if (Number.isInteger(value)) return Object.is(value, -0) ? '0' : BigInt(value).toString();
    value = String(value);
  }
  let s = value.trim();
  if (s === 'NaN' || /^[+-]?Infinity$/i.test(s) || /^[+-]?inf$/i.test(s))
    return s.replace(/^\+/, '').replace(/^(-?)inf(inity)?$/i, '$1Infinity');
  let sign = '';
  if (s[0] === '-' || s[0] === '+') {
    sign = s[0] === '-' ? '-' : '';
    s = s.slice(1);
  }
  let exponent = 0;
  const e = s.search(/[eE]/);
  if (e >= 0) {
    exponent = Number(s.slice(e + 1));
    s = s.slice(0, e);
  }
  let [intPart = '', fracPart = ''] = s.split('.');
  if (exponent > 0) {
    fracPart = fracPart.padEnd(exponent, '0');
    intPart += fracPart.slice(0, exponent);
    fracPart = fracPart.slice(exponent);
  } else if (exponent < 0) {
    intPart = intPart.padStart(-exponent + 1, '0');
    fracPart = intPart.slice(intPart.length + exponent) + fracPart;
    intPart = intPart.slice(0, intPart.length + exponent);
  }
  intPart = intPart.replace(/^0+/, '') || '0';
  fracPart = fracPart.replace(/0+$/, '');
  if (intPart === '0' && fracPart === '') return '0';
  return `${sign}${intPart}${fracPart ? `.${fracPart}` : ''}`;
}

/** JSON with object keys sorted, so jsonb's key order and MySQL's both hash alike. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const keys = Object.keys(value as object).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/**
 * A value reduced to what survives every mapping in the README, so a column compares equal
 * across dialects and type widenings: integers, decimals and years as exact decimal strings,
 * single-precision floats by their float32 value, timestamps with and without time zone as the
 * UTC wall clock, JSON/arrays/sets as sorted-key JSON, binary as base64. tableChecksum hashes
 * these; tests compare them.
 */
export function comparableValue(type: CanonicalType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type.kind) {
    case 'integer':
    case 'decimal':
    case 'year':
      return typeof value === 'number' || typeof value === 'string' ? normaliseDecimal(value) : value;
    case 'float':
      if (typeof value !== 'number') return value;
      return type.bits === 32 ? Math.fround(value) : value;
    case 'timestamp':
      return typeof value === 'string' ? timestampWallClock(value) : value;
    case 'time':
      return typeof value === 'string' ? trimFraction(value) : value;
    case 'binary':
      return isBinaryValue(value) ? value.$binary : Buffer.isBuffer(value) ? value.toString('base64') : value;
    case 'json':
    case 'array':
    case 'set':
      return stableStringify(value);
    case 'text':
      // An array or object that landed in a text column (PostgreSQL text[] -> MySQL JSON -> text...).
      return typeof value === 'object' ? stableStringify(value) : value;
    default:
      return value;
  }
}

/** '2022-01-01T10:00:00.5Z' and '2022-01-01 10:00:00.500' -> '2022-01-01 10:00:00.5'. */
export function timestampWallClock(s: string): string {
  let out = s;
  if (out.length > 10 && out.charCodeAt(10) === 84 /* T */) out = `${out.slice(0, 10)} ${out.slice(11)}`;
  if (out.endsWith('Z')) out = out.slice(0, -1);
  return trimFraction(out);
}
