import { z } from 'zod';
import { Dialect } from './database-names';

/**
 * A database's structure as the agent discovered it, the same shape for every dialect.
 * Names and types are spelled as the database spells them; everything is sorted so two
 * discoveries of an unchanged database are deep-equal (see `sortSnapshot`).
 */

/**
 * Bounds of a snapshot, so an agent cannot make the gateway parse and store an unbounded document:
 * above every real database's own limits (PostgreSQL 1,600 columns, MySQL 4,096, identifiers of
 * 63/64 characters), far below what would hurt the gateway. A snapshot past them is refused whole.
 */
export const SNAPSHOT_LIMITS = {
  /** Identifiers (schema, table, column, index, constraint names). */
  nameChars: 1024,
  /** Type names, default and generated expressions, comments, index predicates. */
  textChars: 64 * 1024,
  columnsPerTable: 4096,
  /** Foreign keys and indexes per table, columns per key or index. */
  keysPerTable: 1024,
  tablesPerSchema: 50_000,
  schemas: 10_000,
  /** Tables of the whole snapshot, all schemas together. */
  tables: 100_000,
} as const;

const name = z.string().max(SNAPSHOT_LIMITS.nameChars);
const text = z.string().max(SNAPSHOT_LIMITS.textChars);
const names = z.array(text).max(SNAPSHOT_LIMITS.keysPerTable);

export const TableKind = z.enum(['table', 'view', 'materialized-view', 'partitioned-table', 'foreign-table']);
export type TableKind = z.infer<typeof TableKind>;

export const ColumnSnapshot = z.object({
  name,
  /** 1-based, dense (a dropped column leaves no gap). */
  position: z.number().int().positive(),
  /** As the database spells it: `character varying(255)`, `decimal(5,2)`, `enum('G','PG')`, a domain's name. */
  dataType: text,
  nullable: z.boolean(),
  /** The default expression as the database prints it; null when there is none. */
  default: text.nullable(),
  comment: text.optional(),
  /** Computed columns: the expression and whether it is stored. */
  generated: z.object({ expression: text, stored: z.boolean() }).optional(),
  /** Identity / AUTO_INCREMENT: `always` when an explicit value is refused without an override. */
  identity: z.enum(['always', 'by-default']).optional(),
});
export type ColumnSnapshot = z.infer<typeof ColumnSnapshot>;

export const ReferentialAction = z.enum(['NO ACTION', 'RESTRICT', 'CASCADE', 'SET NULL', 'SET DEFAULT']);
export type ReferentialAction = z.infer<typeof ReferentialAction>;

export const ForeignKeySnapshot = z.object({
  name,
  columns: names,
  referencedSchema: name,
  referencedTable: name,
  referencedColumns: names,
  onUpdate: ReferentialAction,
  onDelete: ReferentialAction,
});
export type ForeignKeySnapshot = z.infer<typeof ForeignKeySnapshot>;

export const IndexSnapshot = z.object({
  name,
  /** Key columns in order; an expression is its text, a MySQL prefix `col(10)`. */
  columns: names,
  unique: z.boolean(),
  primary: z.boolean(),
  /** Access method as the database names it (`btree`, `gist`, `FULLTEXT`, `CLUSTERED`...). */
  method: name.optional(),
  /** Non-key columns carried in the index (INCLUDE). */
  include: names.optional(),
  /** WHERE clause of a partial / filtered index. */
  predicate: text.optional(),
});
export type IndexSnapshot = z.infer<typeof IndexSnapshot>;

export const TableSnapshot = z.object({
  name,
  kind: TableKind,
  comment: text.optional(),
  /** Set on a partition: the table it is a partition of (same schema unless qualified `schema.table`). */
  partitionOf: text.optional(),
  columns: z.array(ColumnSnapshot).max(SNAPSHOT_LIMITS.columnsPerTable),
  primaryKey: names.nullable(),
  foreignKeys: z.array(ForeignKeySnapshot).max(SNAPSHOT_LIMITS.keysPerTable),
  indexes: z.array(IndexSnapshot).max(SNAPSHOT_LIMITS.keysPerTable),
  /** The planner's estimate, not a count; null for views and never-analysed tables. */
  rowEstimate: z.number().nonnegative().nullable(),
});
export type TableSnapshot = z.infer<typeof TableSnapshot>;

export const NamespaceSnapshot = z.object({
  name,
  tables: z.array(TableSnapshot).max(SNAPSHOT_LIMITS.tablesPerSchema),
});
export type NamespaceSnapshot = z.infer<typeof NamespaceSnapshot>;

export const SchemaSnapshot = z.object({
  dialect: Dialect,
  /** The database (PostgreSQL, SQL Server) or the configured schema (MySQL) that was discovered. */
  database: name,
  schemas: z
    .array(NamespaceSnapshot)
    .max(SNAPSHOT_LIMITS.schemas)
    .refine(
      (schemas) => schemas.reduce((n, s) => n + s.tables.length, 0) <= SNAPSHOT_LIMITS.tables,
      `a snapshot holds at most ${SNAPSHOT_LIMITS.tables} tables; discover fewer schemas at once`,
    ),
});
export type SchemaSnapshot = z.infer<typeof SchemaSnapshot>;

/** Code-point order: the same on every machine and locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts schemas, tables, foreign keys and indexes by name, columns by position (a copy). */
export function sortSnapshot(snapshot: SchemaSnapshot): SchemaSnapshot {
  return {
    dialect: snapshot.dialect,
    database: snapshot.database,
    schemas: [...snapshot.schemas]
      .sort((a, b) => compareNames(a.name, b.name))
      .map((s) => ({
        name: s.name,
        tables: [...s.tables]
          .sort((a, b) => compareNames(a.name, b.name))
          .map((t) => ({
            ...t,
            columns: [...t.columns].sort((a, b) => a.position - b.position),
            foreignKeys: [...t.foreignKeys].sort((a, b) => compareNames(a.name, b.name)),
            indexes: [...t.indexes].sort((a, b) => compareNames(a.name, b.name)),
          })),
      })),
  };
}

/**
 * The snapshot without what changes with the data rather than the structure (row estimates),
 * so a version is recorded only when the structure changes.
 */
export function structuralSnapshot(snapshot: SchemaSnapshot): SchemaSnapshot {
  return {
    ...snapshot,
    schemas: snapshot.schemas.map((s) => ({ ...s, tables: s.tables.map((t) => ({ ...t, rowEstimate: null })) })),
  };
}

/** JSON with object keys sorted at every level and undefined members left out: equal values, equal text. */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stableJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => compareNames(a, b));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}
