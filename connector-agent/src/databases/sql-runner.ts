import type { DatabaseConfig } from '../config';

export interface QueryResult {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  rowCount: number;
  /** True when the statement had more rows than maxRows; the rest were never read. */
  truncated: boolean;
}

export interface QueryOptions {
  maxRows: number;
  /** Aborting cancels the statement on the server. */
  signal?: AbortSignal;
}

export interface SqlRunner {
  readonly dialect: DatabaseConfig['dialect'];
  /** Streams at most maxRows rows inside a READ ONLY transaction; memory stays bounded by maxRows. */
  query(sql: string, params: unknown[], options: QueryOptions): Promise<QueryResult>;
  close(): Promise<void>;
}

export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

export class QueryCancelledError extends Error {
  override name = 'QueryCancelledError';
}

/** Rows are read in batches of this size from a server-side cursor or stream. */
export const FETCH_BATCH = 500;

export async function openSqlRunner(db: DatabaseConfig): Promise<SqlRunner> {
  switch (db.dialect) {
    case 'mysql':
      return (await import('./mysql-runner')).openMysqlRunner(db);
    case 'postgres':
      return (await import('./postgres-runner')).openPostgresRunner(db);
    case 'mssql':
      return (await import('./mssql-runner')).openMssqlRunner(db);
  }
}
