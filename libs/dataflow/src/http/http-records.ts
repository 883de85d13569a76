import { DataflowError, DataflowErrorCode } from '../errors';
import type { CanonicalType, ColumnSpec } from '../types/canonical-type';

/**
 * JSON records (what APIs answer) as buffer rows (what every dataset is): the columns are the
 * record fields of the first page that has records, typed from their values, so an HTTP dataset
 * loads into a database, joins and transforms like an extracted one. Later records are checked
 * against those columns: a field the first page did not have, or a value of another kind, is an
 * error naming it, never a silently dropped value.
 */

const MAX_FIELDS = 4096;
const MAX_FIELD_NAME = 128;

type Kind = 'integer' | 'number' | 'string' | 'boolean' | 'json';

const kindOf = (v: unknown): Kind =>
  typeof v === 'number'
    ? Number.isInteger(v)
      ? 'integer'
      : 'number'
    : typeof v === 'string'
      ? 'string'
      : typeof v === 'boolean'
        ? 'boolean'
        : 'json';

const TYPES: Record<Kind, { type: CanonicalType; nativeType: string }> = {
  integer: { type: { kind: 'integer', bits: 64 }, nativeType: 'json integer' },
  number: { type: { kind: 'float', bits: 64 }, nativeType: 'json number' },
  string: { type: { kind: 'text' }, nativeType: 'json string' },
  boolean: { type: { kind: 'boolean' }, nativeType: 'json boolean' },
  json: { type: { kind: 'json', binary: true }, nativeType: 'json' },
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The records as an array of objects, or an error saying what the `records` expression gave. */
export function asRecords(value: unknown, where: string): Record<string, unknown>[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  list.forEach((r, i) => {
    if (!isRecord(r))
      throw new DataflowError(
        DataflowErrorCode.HTTP_FAILED,
        `${where}: record ${i + 1} is ${Array.isArray(r) ? 'an array' : typeof r}, not an object; set the step's records expression to the path of the records`,
      );
  });
  return list as Record<string, unknown>[];
}

/** Columns of the first records: every field seen, typed by the kinds of its non-null values. */
export function inferColumns(records: Record<string, unknown>[]): ColumnSpec[] {
  const kinds = new Map<string, Kind | undefined>();
  for (const record of records) {
    for (const [field, value] of Object.entries(record)) {
      if (!kinds.has(field)) {
        if (kinds.size >= MAX_FIELDS)
          throw new DataflowError(DataflowErrorCode.HTTP_FAILED, `records have more than ${MAX_FIELDS} fields`);
        if (field.length === 0 || field.length > MAX_FIELD_NAME)
          throw new DataflowError(
            DataflowErrorCode.HTTP_FAILED,
            `a record field name is empty or longer than ${MAX_FIELD_NAME} characters; map the records to shorter names`,
          );
        kinds.set(field, undefined);
      }
      if (value === null || value === undefined) continue;
      const seen = kinds.get(field);
      const kind = kindOf(value);
      // Integers and other numbers together are numbers; any other mix is JSON.
      kinds.set(
        field,
        seen === undefined || seen === kind
          ? kind
          : (seen === 'integer' && kind === 'number') || (seen === 'number' && kind === 'integer')
            ? 'number'
            : 'json',
      );
    }
  }
  return [...kinds].map(([name, kind]) => ({ name, nullable: true, ...TYPES[kind ?? 'json'] }));
}

/** Rows of these columns, in column order; a field or value the columns do not fit is an error naming it. */
export function recordsToRows(records: Record<string, unknown>[], columns: ColumnSpec[], firstIndex = 0): unknown[][] {
  const position = new Map(columns.map((c, i) => [c.name, i]));
  return records.map((record, r) => {
    const row: unknown[] = new Array<unknown>(columns.length).fill(null);
    for (const [field, value] of Object.entries(record)) {
      const i = position.get(field);
      if (i === undefined)
        throw new DataflowError(
          DataflowErrorCode.HTTP_FAILED,
          `record ${firstIndex + r + 1} has the field "${field.slice(0, MAX_FIELD_NAME)}", which the first page's records did not have; select the fields with the step's records expression`,
        );
      if (value === null || value === undefined) continue;
      const type = columns[i]!.type;
      const kind = kindOf(value);
      const fits =
        type.kind === 'json' ||
        (type.kind === 'integer' && kind === 'integer') ||
        (type.kind === 'float' && (kind === 'integer' || kind === 'number')) ||
        (type.kind === 'text' && kind === 'string') ||
        (type.kind === 'boolean' && kind === 'boolean');
      if (!fits)
        throw new DataflowError(
          DataflowErrorCode.HTTP_FAILED,
          `record ${firstIndex + r + 1} has a ${kind} in "${field}", which the first page's records had as ${type.kind}; coerce it in the step's records expression`,
        );
      row[i] = value;
    }
    return row;
  });
}

/** Records back from rows (a write step reads any dataset: extracted, transformed or HTTP). */
export function rowsToRecords(rows: unknown[][], columns: readonly string[]): Record<string, unknown>[] {
  return rows.map((row) => {
    const record: Record<string, unknown> = {};
    columns.forEach((name, i) => {
      record[name] = row[i] ?? null;
    });
    return record;
  });
}
