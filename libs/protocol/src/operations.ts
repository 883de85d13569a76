import { z } from 'zod';
import { SchemaSnapshot } from './schema-snapshot';

/** Input and output of each agent operation, validated on both sides. */
export const SqlQueryInput = z.object({
  /** Name of a database configured on the agent; credentials never leave the site. */
  database: z.string().min(1).max(128),
  sql: z.string().min(1).max(100_000),
  params: z
    .array(z.union([z.string(), z.number(), z.boolean(), z.null()]))
    .max(1000)
    .default([]),
  maxRows: z.number().int().min(1).max(100_000).default(1000),
});
export type SqlQueryInputT = z.input<typeof SqlQueryInput>;

export const SqlQueryOutput = z.object({
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rows: z.array(z.array(z.unknown())),
  rowCount: z.number().int().nonnegative(),
  truncated: z.boolean(),
});
export type SqlQueryOutputT = z.infer<typeof SqlQueryOutput>;

export const SchemaDiscoverInput = z.object({
  /** Name of a database configured on the agent. */
  database: z.string().min(1).max(128),
  /**
   * Schemas to discover; default: every non-system schema of a PostgreSQL or SQL Server database,
   * the configured database itself on MySQL/MariaDB.
   */
  schemas: z.array(z.string().min(1).max(128)).min(1).max(1000).optional(),
});
export type SchemaDiscoverInputT = z.input<typeof SchemaDiscoverInput>;

export const SchemaDiscoverOutput = SchemaSnapshot;
export type SchemaDiscoverOutputT = SchemaSnapshot;
