import { z } from 'zod';

/**
 * The names every package uses for a database and a table in it: the agent's configuration, the
 * SQL guard, schema snapshots, the data plane and the workflows all speak these two types.
 */

/** 'mysql' covers MySQL and MariaDB; where they differ the code says so. */
export const Dialect = z.enum(['postgres', 'mysql', 'mssql']);
export type Dialect = z.infer<typeof Dialect>;
export const DIALECTS = Dialect.options;

/** SQL identifiers as the site names them; quoting happens in the data layer, this only bounds them. */
export const SqlIdentifier = z
  .string()
  .min(1)
  .max(128)
  .refine((s) => ![...s].some((ch) => ch.charCodeAt(0) < 0x20), 'identifiers may not contain control characters');

/** schema: PostgreSQL / SQL Server schema or MySQL database; undefined = the connection's current one. */
export interface TableRef {
  schema?: string;
  name: string;
}
export const TableRef: z.ZodType<TableRef> = z.object({ schema: SqlIdentifier.optional(), name: SqlIdentifier });

/** `schema.table` or `table`, for messages. */
export function tableLabel(table: TableRef): string {
  return table.schema ? `${table.schema}.${table.name}` : table.name;
}

/** `database.schema.table`: a table among the databases an agent or a tenant has configured. */
export function tableLabelOf(database: string, table: TableRef): string {
  return `${database}.${tableLabel(table)}`;
}
