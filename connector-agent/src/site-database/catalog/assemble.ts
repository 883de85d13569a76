import { sortSnapshot, type Dialect, type SchemaSnapshot, type TableSnapshot } from '@vansales/protocol';
import type { DatabaseConfig } from '../../config';

/**
 * A SQL Server to discover (the data plane has no SQL Server connection yet, so its discovery keeps
 * its own pool): an agent database setting plus TLS settings the agent's configuration does not carry yet.
 */
export type MssqlTarget = Omit<DatabaseConfig, 'statementTimeoutMs'> & {
  /** Longest one catalog statement may run, in ms (default 30 s). */
  statementTimeoutMs?: number;
  /** TLS settings (defaults: encrypt, do not trust a self-signed certificate). */
  mssql?: { encrypt?: boolean; trustServerCertificate?: boolean; instanceName?: string };
};

export interface DiscoverOptions {
  /**
   * Schemas to discover. Default: every non-system schema (PostgreSQL, SQL Server), the configured
   * database itself (MySQL/MariaDB, where a database is a schema).
   */
  schemas?: string[];
  /** Aborting cancels the running catalog statement on the server. */
  signal?: AbortSignal;
}

export interface RawTable {
  schema: string;
  table: TableSnapshot;
}

/**
 * Groups tables by schema, fills a partitioned table's row estimate from its partitions
 * (the parent's own statistic is missing or stale until someone analyses the parent), sorts.
 */
export function assembleSnapshot(
  dialect: Dialect,
  database: string,
  schemaNames: string[],
  tables: RawTable[],
): SchemaSnapshot {
  const bySchema = new Map<string, TableSnapshot[]>(schemaNames.map((s) => [s, []]));
  const byQualified = new Map<string, TableSnapshot>();
  for (const { schema, table } of tables) {
    if (!bySchema.has(schema)) bySchema.set(schema, []);
    bySchema.get(schema)!.push(table);
    byQualified.set(`${schema}.${table.name}`, table);
  }
  const partitions = new Map<TableSnapshot, TableSnapshot[]>();
  for (const { schema, table } of tables) {
    if (!table.partitionOf) continue;
    // Same schema: the bare name; another schema: `schema.name`.
    const parent = byQualified.get(`${schema}.${table.partitionOf}`) ?? byQualified.get(table.partitionOf);
    if (parent) partitions.set(parent, [...(partitions.get(parent) ?? []), table]);
  }
  const estimate = (t: TableSnapshot, depth = 0): number | null => {
    const children = partitions.get(t);
    if (!children || depth > 32) return t.rowEstimate;
    const known = children.map((c) => estimate(c, depth + 1)).filter((n): n is number => n !== null);
    return known.length ? known.reduce((a, b) => a + b, 0) : null;
  };
  const estimates = new Map([...partitions.keys()].map((t) => [t, estimate(t)]));
  for (const [t, n] of estimates) t.rowEstimate = n;
  return sortSnapshot({ dialect, database, schemas: [...bySchema].map(([name, ts]) => ({ name, tables: ts })) });
}
