import type { DatabaseConfig } from '../config';

export interface QueryResult {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  rowCount: number;
  truncated: boolean;
}

export interface SqlRunner {
  query(sql: string, params: unknown[], maxRows: number): Promise<QueryResult>;
  close(): Promise<void>;
}

export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

export async function openSqlRunner(db: DatabaseConfig): Promise<SqlRunner> {
  if (db.dialect === 'mysql') return (await import('./mysql-runner')).openMysqlRunner(db);
  return (await import('./postgres-runner')).openPostgresRunner(db);
}
