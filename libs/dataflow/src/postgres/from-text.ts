import type { CanonicalType } from '../types/canonical-type';
import { integerValue } from '../values/canonical-values';
import { parseJsonText } from '../values/json-text';
import { parsePgArray } from '../values/pg-array';

/** A value as PostgreSQL prints it (sessions: DateStyle ISO, TimeZone UTC, IntervalStyle iso_8601, bytea hex) -> canonical. */
export type FromText = (text: string) => unknown;

const identity: FromText = (s) => s;

function floatFromText(s: string): number | string {
  // PostgreSQL prints the shortest exact form (extra_float_digits >= 1); NaN and infinities stay strings.
  if (s === 'NaN' || s === 'Infinity' || s === '-Infinity') return s;
  return Number(s);
}

/** '2022-01-01 10:00:00.5+00' -> '2022-01-01T10:00:00.5Z' (the session is in UTC, so the offset is always +00). */
function timestamptzFromText(s: string): string {
  if (s === 'infinity' || s === '-infinity') return s;
  const bc = s.endsWith(' BC');
  const body = bc ? s.slice(0, -3) : s;
  const plus = body.lastIndexOf('+');
  const core = plus > 10 && body.slice(plus) === '+00' ? body.slice(0, plus) : body;
  return `${core.slice(0, 10)}T${core.slice(11)}Z${bc ? ' BC' : ''}`;
}

/** Returns undefined when the text form already is the canonical value (the reader then skips the column). */
export function pgFromText(type: CanonicalType): FromText | undefined {
  switch (type.kind) {
    case 'integer':
      return type.bits === 64 || type.unsigned ? integerValue : Number;
    case 'year':
      return Number;
    case 'float':
      return floatFromText;
    case 'boolean':
      return (s) => s === 't';
    case 'text':
      // character(n) pads with spaces on output; they are padding, not data (MySQL drops them too).
      return type.fixed ? (s) => s.replace(/ +$/, '') : undefined;
    case 'binary':
      return (s) => ({ $binary: Buffer.from(s.slice(2), 'hex').toString('base64') });
    case 'timestamp':
      return type.withTimeZone ? timestamptzFromText : undefined;
    case 'json':
      return parseJsonText;
    case 'array': {
      const element = pgFromText(type.element) ?? identity;
      return (s) => parsePgArray(s, element);
    }
    case 'set':
      return (s) => parsePgArray(s, identity);
    // decimal (exact text, 'NaN'), date, time, interval (ISO 8601), uuid, enum, bit ('0101'), other: as printed.
    default:
      return undefined;
  }
}
