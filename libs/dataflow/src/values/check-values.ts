import type { CanonicalType, ColumnSpec } from '../types/canonical-type';
import { describeValue } from './bad-value';
import { isBinaryValue } from './canonical-values';

/*
 * Chunk values against the types a manifest declares (README, Canonical values), before any row
 * reaches a writer: a chunk from another site that contradicts its own manifest is refused whole,
 * naming the row and column, instead of leaving it to each writer's encoder (which follows the
 * destination's types, and may accept what the manifest rules out). Shape checks only: a value
 * that has the declared shape but does not fit the destination is still the writer's to refuse.
 */

/** Why a value is not of the type, or undefined when it is. One function per column, made once per load. */
type Check = (v: unknown) => string | undefined;

const INTEGER = /^[+-]?\d{1,40}$/;
const DECIMAL = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]?Infinity)$/;
const FLOAT_WORDS = new Set(['NaN', 'Infinity', '-Infinity']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DATE = /^(?:\d{4,}-\d{2}-\d{2}(?: BC)?|-?infinity)$/;
const TIME = /^-?\d{2,3}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[+-]\d{2}(?::?\d{2}){0,2})?$/;
const TIMESTAMP =
  /^(?:\d{4,}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}(?::?\d{2}){0,2})?(?: BC)?|-?infinity)$/;
const BITS = /^[01]*$/;

const string = (what: string, re?: RegExp): Check => {
  const message = `is not ${what}`;
  return (v) => (typeof v === 'string' && (!re || re.test(v)) ? undefined : message);
};

/** Characters as the servers count them (code points), without walking strings that cannot be too long. */
function tooLong(s: string, max: number): boolean {
  if (s.length <= max) return false;
  let n = 0;
  for (const _ of s) if (++n > max) return true;
  return false;
}

function labels(values: string[], kind: 'enum' | 'set'): (v: unknown) => string | undefined {
  const allowed = new Set(values);
  const notLabel = `is not a label of the ${kind}`;
  const notOne = `is not one of the ${kind}'s labels`;
  return (v) => (typeof v !== 'string' ? notLabel : allowed.size && !allowed.has(v) ? notOne : undefined);
}

function checkFor(type: CanonicalType): Check | undefined {
  switch (type.kind) {
    case 'integer':
    case 'year':
      return (v) =>
        (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && INTEGER.test(v))
          ? undefined
          : 'is not an integer';
    case 'decimal':
      return (v) =>
        (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && DECIMAL.test(v))
          ? undefined
          : 'is not a decimal';
    case 'float':
      return (v) =>
        typeof v === 'number' || (typeof v === 'string' && (FLOAT_WORDS.has(v) || DECIMAL.test(v)))
          ? undefined
          : 'is not a float';
    case 'boolean':
      return (v) => (typeof v === 'boolean' ? undefined : 'is not a boolean');
    case 'text': {
      const max = type.maxLength;
      if (max === undefined) return string('a string');
      const message = `is longer than the declared ${max} characters`;
      return (v) => (typeof v !== 'string' ? 'is not a string' : tooLong(v, max) ? message : undefined);
    }
    case 'interval':
    case 'other':
      return string('a string');
    case 'enum':
      return labels(type.values, 'enum');
    case 'set': {
      const member = labels(type.values, 'set');
      return (v) => {
        if (!Array.isArray(v)) return 'is not a set (an array of labels)';
        for (const m of v) {
          const problem = member(m);
          if (problem) return `has a member that ${problem}`;
        }
        return undefined;
      };
    }
    case 'uuid':
      return string('a UUID', UUID);
    case 'binary':
      return (v) => (isBinaryValue(v) && BASE64.test(v.$binary) ? undefined : 'is not binary ({"$binary": base64})');
    case 'date':
      return string('a date (YYYY-MM-DD)', DATE);
    case 'time':
      return string('a time (HH:MM:SS[.ffffff])', TIME);
    case 'timestamp':
      return string('a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff])', TIMESTAMP);
    case 'bit':
      return string('a bit string (0s and 1s)', BITS);
    case 'array': {
      const element = checkFor(type.element);
      const walk = (v: unknown, depth: number): string | undefined => {
        if (!Array.isArray(v)) return 'is not an array';
        for (const e of v) {
          if (e === null) continue;
          // Nested arrays are more dimensions of the same element type.
          const problem = Array.isArray(e) && depth < 6 ? walk(e, depth + 1) : element?.(e);
          if (problem) return `has an element that ${problem}`;
        }
        return undefined;
      };
      return (v) => walk(v, 1);
    }
    // Any JSON value is a json value; unsupported types never reach a load (mapping refuses them).
    case 'json':
    case 'unsupported':
      return undefined;
  }
}

export interface RowProblem {
  /** 0-based row of the batch. */
  row: number;
  column?: string;
  message: string;
}

/**
 * A checker for rows of these columns: returns the first problem (row, column, what is wrong) or
 * undefined when every value has its column's declared shape and no NOT NULL column holds null.
 */
export function rowChecker(columns: ColumnSpec[]): (rows: unknown[][]) => RowProblem | undefined {
  const checks = columns.map((c) => checkFor(c.type));
  const nullable = columns.map((c) => c.nullable);
  const width = columns.length;
  return (rows) => {
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      if (row.length !== width)
        return { row: r, message: `has ${row.length} values for the ${width} columns the manifest declares` };
      for (let i = 0; i < width; i++) {
        const v = row[i];
        if (v === null) {
          if (!nullable[i]) return { row: r, column: columns[i]!.name, message: 'is null in a NOT NULL column' };
          continue;
        }
        const problem = checks[i]?.(v);
        if (problem)
          return {
            row: r,
            column: columns[i]!.name,
            message: `${describeValue(v)} ${problem} (the manifest declares ${columns[i]!.type.kind})`,
          };
      }
    }
    return undefined;
  };
}
