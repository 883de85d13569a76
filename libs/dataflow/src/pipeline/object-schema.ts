import { Dialect } from '@vansales/protocol';
import { z } from 'zod';
import { DataflowError, DataflowErrorCode } from '../errors';
import { MAX_TYPE_NAME_LENGTH, mysqlCharsetNameProblem, otherTypeNameProblem, showName } from '../mapping/type-names';
import type { CanonicalType, ColumnSpec } from '../types/canonical-type';

/*
 * The schema part of a buffer manifest. Whichever agent extracted the object wrote it, so a
 * load (on another site's agent or in the cloud) trusts nothing in it: every object is strict
 * (no unknown field), every size is bounded, and the names that become DDL text (type names,
 * charsets, collations) must match their dialect's grammar before any DDL is built. Agent and
 * cloud loads both go through loadObject, which calls parseObjectSchema first.
 */

/** MySQL allows 4096 columns per table, PostgreSQL 1600: no real table has more than the larger. */
export const MAX_COLUMNS = 4096;
/** The longest identifier of any dialect (SQL Server: 128). */
export const MAX_NAME_LENGTH = 128;
/** MySQL's ENUM limit. */
const MAX_LABELS = 65_535;
/** MySQL ENUM/SET elements hold at most 255 characters, PostgreSQL labels 63 bytes. */
const MAX_LABEL_LENGTH = 255;
/** Arrays of arrays are not a column type anywhere; one level of nesting is already generous. */
const MAX_ARRAY_DEPTH = 2;
/** nativeType is only shown in messages, but a MySQL enum's COLUMN_TYPE lists every label. */
const MAX_NATIVE_TYPE_LENGTH = 65_536;
const MAX_KEY_COLUMNS = 64;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const name = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_NAME_LENGTH, `is longer than ${MAX_NAME_LENGTH} characters`)
  .refine((s) => !CONTROL.test(s), 'contains a control character');
const int = z.number().int();
/** 2^32: larger than any column length a server accepts, small enough to print as digits in DDL. */
const length = int.positive().max(2 ** 32);
const charsetName = z
  .string()
  .max(64)
  .superRefine((s, ctx) => {
    const problem = mysqlCharsetNameProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: `${showName(s)} ${problem}` });
  });
const label = z
  .string()
  .max(MAX_LABEL_LENGTH, `is longer than ${MAX_LABEL_LENGTH} characters`)
  .refine((s) => !s.includes('\u0000'), 'contains a NUL character');

function otherType(kind: 'other' | 'unsupported') {
  return z
    .strictObject({
      kind: z.literal(kind),
      dialect: Dialect,
      name: z.string().min(1).max(MAX_TYPE_NAME_LENGTH, `is longer than ${MAX_TYPE_NAME_LENGTH} characters`),
    })
    .superRefine((t, ctx) => {
      // An unsupported type is refused by the mapping and only named in messages: no control characters.
      const problem =
        kind === 'other'
          ? otherTypeNameProblem(t.dialect, t.name)
          : CONTROL.test(t.name)
            ? 'contains a control character'
            : undefined;
      if (problem) ctx.addIssue({ code: 'custom', path: ['name'], message: `${showName(t.name)} ${problem}` });
    });
}

function canonicalType(depth: number): z.ZodType<CanonicalType> {
  const element = depth < MAX_ARRAY_DEPTH ? z.lazy(() => canonicalType(depth + 1)) : z.never();
  return z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('integer'),
      bits: z.literal([8, 16, 24, 32, 64]),
      unsigned: z.boolean().optional(),
    }),
    z.strictObject({
      kind: z.literal('decimal'),
      precision: int.positive().max(1000).optional(),
      scale: int.min(-1000).max(1000).optional(),
    }),
    z.strictObject({ kind: z.literal('float'), bits: z.literal([32, 64]) }),
    z.strictObject({ kind: z.literal('boolean') }),
    z.strictObject({
      kind: z.literal('text'),
      maxLength: length.optional(),
      fixed: z.boolean().optional(),
      charset: charsetName.optional(),
      collation: charsetName.optional(),
    }),
    z.strictObject({ kind: z.literal('binary'), maxLength: length.optional(), fixed: z.boolean().optional() }),
    z.strictObject({ kind: z.literal('date') }),
    z.strictObject({
      kind: z.literal('time'),
      precision: int.nonnegative().max(9).optional(),
      withTimeZone: z.boolean().optional(),
    }),
    z.strictObject({
      kind: z.literal('timestamp'),
      precision: int.nonnegative().max(9).optional(),
      withTimeZone: z.boolean(),
    }),
    z.strictObject({ kind: z.literal('interval') }),
    z.strictObject({ kind: z.literal('json'), binary: z.boolean().optional() }),
    z.strictObject({ kind: z.literal('enum'), values: z.array(label).max(MAX_LABELS), name: name.max(63).optional() }),
    z.strictObject({ kind: z.literal('set'), values: z.array(label).max(MAX_LABELS) }),
    z.strictObject({ kind: z.literal('uuid') }),
    z.strictObject({ kind: z.literal('array'), element }),
    z.strictObject({ kind: z.literal('year') }),
    z.strictObject({
      kind: z.literal('bit'),
      length: int.positive().max(83_886_080).optional(),
      varying: z.boolean().optional(),
    }),
    otherType('other'),
    otherType('unsupported'),
  ]) as unknown as z.ZodType<CanonicalType>;
}

const ManifestColumn = z.strictObject({
  name,
  type: canonicalType(1),
  nullable: z.boolean(),
  nativeType: z
    .string()
    .max(MAX_NATIVE_TYPE_LENGTH, `is longer than ${MAX_NATIVE_TYPE_LENGTH} characters`)
    .refine((s) => !s.includes('\u0000'), 'contains a NUL character'),
});

export const ObjectSchema = z
  .strictObject({
    columns: z
      .array(ManifestColumn)
      .min(1, 'an object needs at least one column')
      .max(MAX_COLUMNS, `more than ${MAX_COLUMNS} columns`),
    keyColumns: z.array(name).max(MAX_KEY_COLUMNS, `more than ${MAX_KEY_COLUMNS} key columns`),
    /** The extracting side's dialect and table, for messages. */
    dialect: Dialect.optional(),
    source: z
      .string()
      .max(1024)
      .refine((s) => !CONTROL.test(s), 'contains a control character')
      .optional(),
  })
  .superRefine((schema, ctx) => {
    const seen = new Set<string>();
    schema.columns.forEach((c, i) => {
      if (seen.has(c.name))
        ctx.addIssue({
          code: 'custom',
          path: ['columns', i, 'name'],
          message: `${showName(c.name)} appears twice`,
        });
      seen.add(c.name);
    });
    schema.keyColumns.forEach((k, i) => {
      if (!seen.has(k))
        ctx.addIssue({ code: 'custom', path: ['keyColumns', i], message: `${showName(k)} is not a column` });
    });
  });

export interface ObjectSchema {
  columns: ColumnSpec[];
  keyColumns: string[];
  dialect?: Dialect;
  source?: string;
}

/** `columns[3].type.charset` -> `column 4 ("name") type.charset`, so the message names what to fix. */
function where(path: PropertyKey[], input: unknown): string {
  if (path[0] === 'columns' && typeof path[1] === 'number') {
    const columns = (input as { columns?: unknown[] } | undefined)?.columns;
    const raw = Array.isArray(columns) ? (columns[path[1]] as { name?: unknown } | undefined)?.name : undefined;
    const label = typeof raw === 'string' ? ` (${showName(raw)})` : '';
    const field = path.slice(2).join('.');
    return `column ${path[1] + 1}${label}${field ? ` ${field}` : ''}`;
  }
  return path.length ? path.join('.') : 'schema';
}

/**
 * The one manifest check of every load: throws BAD_OBJECT naming the object, the column (number and
 * name) and the field, so whoever wrote the object can see what to fix.
 */
export function parseObjectSchema(input: unknown, objectId: string): ObjectSchema {
  const parsed = ObjectSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${where(i.path, input)}: ${i.message}`);
    const more = parsed.error.issues.length > 3 ? ` (and ${parsed.error.issues.length - 3} more)` : '';
    const first = parsed.error.issues[0]!;
    const column =
      first.path[0] === 'columns' && typeof first.path[1] === 'number'
        ? (input as { columns: { name?: unknown }[] }).columns[first.path[1]]?.name
        : undefined;
    throw new DataflowError(
      DataflowErrorCode.BAD_OBJECT,
      `buffer object ${objectId} has an unusable schema: ${issues.join('; ')}${more}`,
      typeof column === 'string' && column.length <= MAX_NAME_LENGTH ? { column } : {},
    );
  }
  return parsed.data as ObjectSchema;
}
