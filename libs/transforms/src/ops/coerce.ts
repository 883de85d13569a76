import type { TransformOp } from '@vansales/definitions';
import { TransformError, TransformErrorCode } from '../errors';
import type { TransformRecord } from '../expression';
import { toNumberOrUndefined } from '../internal/values';

type CoerceOp = Extract<TransformOp, { op: 'coerce' }>;
export type CoerceType = CoerceOp['types'][string];

const TRUE = new Set(['true', 't', 'yes', 'y', '1', 'on']);
const FALSE = new Set(['false', 'f', 'no', 'n', '0', 'off']);
const INTEGER = /^\s*[+-]?\d+\s*$/;

class Refused extends Error {}
const refuse = (): never => {
  throw new Refused();
};

function toDate(v: unknown): Date {
  const d =
    typeof v === 'number' ? new Date(v) : typeof v === 'string' ? new Date(v.trim().replace(' ', 'T')) : refuse();
  if (Number.isNaN(d.getTime())) refuse();
  return d;
}

/**
 * Values in the canonical forms the buffer carries (dataflow's README): integers as numbers (strings
 * beyond 2^53), dates 'YYYY-MM-DD', timestamps as UTC instants 'YYYY-MM-DDTHH:MM:SS.sssZ'. null stays null.
 */
export function coerceValue(v: unknown, type: CoerceType): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'string':
      return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
    case 'integer': {
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'number') return Number.isInteger(v) ? v : refuse();
      if (typeof v === 'string' && INTEGER.test(v)) {
        const n = Number(v);
        return Number.isSafeInteger(n) ? n : v.trim().replace(/^\+/, '');
      }
      const n = toNumberOrUndefined(v);
      return n !== undefined && Number.isInteger(n) && Number.isSafeInteger(n) ? n : refuse();
    }
    case 'number': {
      if (typeof v === 'boolean') return v ? 1 : 0;
      const n = toNumberOrUndefined(v);
      return n !== undefined && Number.isFinite(n) ? n : refuse();
    }
    case 'boolean': {
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number') return v === 1 ? true : v === 0 ? false : refuse();
      if (typeof v === 'string') {
        const s = v.trim().toLowerCase();
        return TRUE.has(s) ? true : FALSE.has(s) ? false : refuse();
      }
      return refuse();
    }
    case 'date':
      return toDate(v).toISOString().slice(0, 10);
    case 'timestamp':
      return toDate(v).toISOString();
    case 'json':
      if (typeof v === 'string') {
        try {
          return JSON.parse(v) as unknown;
        } catch {
          return v;
        }
      }
      return v;
  }
}

/** Converts the named fields of each record (others unchanged); a value that does not convert is BAD_RECORD. */
export function createCoercer(op: CoerceOp) {
  const types = Object.entries(op.types);
  return (records: TransformRecord[], first = 1): TransformRecord[] =>
    records.map((record, i) => {
      const out: TransformRecord = { ...record };
      for (const [field, type] of types) {
        try {
          out[field] = coerceValue(record[field], type);
        } catch (err) {
          if (!(err instanceof Refused)) throw err;
          throw new TransformError(
            TransformErrorCode.badRecord,
            `record ${first + i}: field ${field} (${JSON.stringify(record[field])?.slice(0, 60)}) is not a ${type}`,
            { record: first + i, field },
          );
        }
      }
      return out;
    });
}
