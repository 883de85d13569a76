import { z } from 'zod';
import { Dialect } from '@vansales/protocol';

/**
 * Dialect-neutral column types. Plain JSON so they travel in buffer manifests; each dialect's
 * mapping module turns native types into these and these into DDL (see README for the table).
 */
export type CanonicalType =
  | { kind: 'integer'; bits: 8 | 16 | 24 | 32 | 64; unsigned?: boolean }
  /** precision undefined = unbounded (PostgreSQL `numeric` without modifier). */
  | { kind: 'decimal'; precision?: number; scale?: number }
  | { kind: 'float'; bits: 32 | 64 }
  | { kind: 'boolean' }
  /** maxLength in characters; undefined = unbounded (TEXT family, PostgreSQL text). charset/collation: MySQL names, kept for MySQL targets. */
  | { kind: 'text'; maxLength?: number; fixed?: boolean; charset?: string; collation?: string }
  | { kind: 'binary'; maxLength?: number; fixed?: boolean }
  | { kind: 'date' }
  /** precision: fractional digits (0-6); undefined = up to microseconds. */
  | { kind: 'time'; precision?: number; withTimeZone?: boolean }
  | { kind: 'timestamp'; precision?: number; withTimeZone: boolean }
  | { kind: 'interval' }
  /** binary: the server normalises the document (jsonb); false keeps the text (PostgreSQL json). */
  | { kind: 'json'; binary?: boolean }
  /** name: the PostgreSQL enum type it came from, reused when the target is PostgreSQL. */
  | { kind: 'enum'; values: string[]; name?: string }
  | { kind: 'set'; values: string[] }
  | { kind: 'uuid' }
  | { kind: 'array'; element: CanonicalType }
  | { kind: 'year' }
  /** length undefined only for an unbounded PostgreSQL `bit varying`. */
  | { kind: 'bit'; length?: number; varying?: boolean }
  /**
   * A native type with no canonical family whose text form is lossless (inet, tsvector, xml,
   * ranges, MariaDB inet6...): recreated natively in its own dialect, text elsewhere.
   */
  | { kind: 'other'; dialect: Dialect; name: string }
  /** Described but not transferable (geometry, composite types...): mapColumns refuses it. */
  | { kind: 'unsupported'; dialect: Dialect; name: string };

export type CanonicalKind = CanonicalType['kind'];

const int = z.number().int();
const nonNegative = int.nonnegative();

export const CanonicalType: z.ZodType<CanonicalType> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('integer'), bits: z.literal([8, 16, 24, 32, 64]), unsigned: z.boolean().optional() }),
  z.object({ kind: z.literal('decimal'), precision: int.positive().optional(), scale: int.optional() }),
  z.object({ kind: z.literal('float'), bits: z.literal([32, 64]) }),
  z.object({ kind: z.literal('boolean') }),
  z.object({
    kind: z.literal('text'),
    maxLength: int.positive().optional(),
    fixed: z.boolean().optional(),
    charset: z.string().optional(),
    collation: z.string().optional(),
  }),
  z.object({ kind: z.literal('binary'), maxLength: int.positive().optional(), fixed: z.boolean().optional() }),
  z.object({ kind: z.literal('date') }),
  z.object({ kind: z.literal('time'), precision: nonNegative.max(9).optional(), withTimeZone: z.boolean().optional() }),
  z.object({ kind: z.literal('timestamp'), precision: nonNegative.max(9).optional(), withTimeZone: z.boolean() }),
  z.object({ kind: z.literal('interval') }),
  z.object({ kind: z.literal('json'), binary: z.boolean().optional() }),
  z.object({ kind: z.literal('enum'), values: z.array(z.string()), name: z.string().optional() }),
  z.object({ kind: z.literal('set'), values: z.array(z.string()) }),
  z.object({ kind: z.literal('uuid') }),
  z.object({
    kind: z.literal('array'),
    get element(): z.ZodType<CanonicalType> {
      return CanonicalType;
    },
  }),
  z.object({ kind: z.literal('year') }),
  z.object({ kind: z.literal('bit'), length: int.positive().optional(), varying: z.boolean().optional() }),
  z.object({ kind: z.literal('other'), dialect: Dialect, name: z.string() }),
  z.object({ kind: z.literal('unsupported'), dialect: Dialect, name: z.string() }),
]);

export interface ColumnSpec {
  name: string;
  type: CanonicalType;
  nullable: boolean;
  /** The type as the database spells it (`int(10) unsigned`, `character varying(45)`, `public.mpaa_rating`). */
  nativeType: string;
}

export const ColumnSpec: z.ZodType<ColumnSpec> = z.object({
  name: z.string().min(1),
  type: CanonicalType,
  nullable: z.boolean(),
  nativeType: z.string(),
});
