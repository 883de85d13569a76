import type { CanonicalType } from '../types/canonical-type';
import { BadValue, describeValue } from '../values/bad-value';
import { parseJsonText } from '../values/json-text';
import { float32Value, floatValue, integerValue, trimFraction } from '../values/canonical-values';

/** A mysql2 text-protocol value (pool options in pool.ts) -> canonical. */
export type FromDriver = (v: unknown) => unknown;

/**
 * Zero dates ('0000-00-00', '0000-00-00 00:00:00') name no day; they are read as NULL, as
 * pgloader does by default. Other invalid dates (a zero month) are kept and fail on a target
 * that refuses them.
 */
function isZeroDate(s: string): boolean {
  return s.charCodeAt(0) === 48 && s.startsWith('0000-00-00');
}

function bitString(length: number): FromDriver {
  return (v) => {
    if (!Buffer.isBuffer(v)) return v;
    let s = '';
    for (const byte of v) s += byte.toString(2).padStart(8, '0');
    return s.slice(s.length - length);
  };
}

/** Returns undefined when the driver value already is canonical (the reader skips the column). */
export function mysqlFromDriver(type: CanonicalType): FromDriver | undefined {
  switch (type.kind) {
    case 'boolean':
      return (v) => {
        if (v === 1 || v === '1') return true;
        if (v === 0 || v === '0') return false;
        // tinyint(1) holding 2 is a small integer, not a boolean: refuse instead of squashing it.
        throw new BadValue(
          `${describeValue(v)} in a tinyint(1) column is not a boolean; open the connection with mysqlTinyint1: 'integer' to read it as a number`,
        );
      };
    case 'integer':
      // mysql2 gives a number, or a decimal string for BIGINTs past 2^53.
      return type.bits === 64 ? (v) => (typeof v === 'string' ? integerValue(v) : v) : undefined;
    case 'float':
      // FLOAT is selected as DOUBLE (exact) and narrowed to its shortest float32 form.
      return type.bits === 32
        ? (v) => (typeof v === 'number' ? float32Value(v) : v)
        : (v) => (typeof v === 'number' ? floatValue(v) : v);
    case 'binary':
      return (v) => (Buffer.isBuffer(v) ? { $binary: v.toString('base64') } : v);
    case 'date':
      return (v) => (typeof v === 'string' && isZeroDate(v) ? null : v);
    case 'time':
      return type.precision ? (v) => (typeof v === 'string' ? trimFraction(v) : v) : undefined;
    case 'timestamp':
      if (type.withTimeZone) {
        return (v) => {
          if (typeof v !== 'string') return v;
          if (isZeroDate(v)) return null;
          const t = trimFraction(v);
          return `${t.slice(0, 10)}T${t.slice(11)}Z`;
        };
      }
      return (v) => (typeof v !== 'string' ? v : isZeroDate(v) ? null : type.precision ? trimFraction(v) : v);
    case 'json':
      return (v) =>
        typeof v === 'string' ? parseJsonText(v) : Buffer.isBuffer(v) ? parseJsonText(v.toString('utf8')) : v;
    case 'set':
      return (v) => (typeof v === 'string' ? (v === '' ? [] : v.split(',')) : v);
    case 'bit':
      return bitString(type.length ?? 1);
    case 'unsupported':
      // Read anyway (mapColumns refuses to create it elsewhere); bytes stay JSON-safe.
      return (v) => (Buffer.isBuffer(v) ? { $binary: v.toString('base64') } : v);
    // year (a number), decimal (exact string), text, enum, uuid, other: as the driver gives them.
    default:
      return undefined;
  }
}
