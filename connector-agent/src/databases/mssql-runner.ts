import sql from 'mssql';
import type { DatabaseConfig } from '../config';
import { DatabaseUnavailableError, QueryCancelledError, type QueryResult, type SqlRunner } from './sql-runner';
import { toWire } from './to-wire';

const CONNECTION_ERRORS = new Set(['ESOCKET', 'ECONNCLOSED', 'ELOGIN', 'ETIMEOUT', 'EINSTLOOKUP']);

/**
 * SQL Server. It has no READ ONLY transaction, so layer 4 here is the site's read-only login
 * (what `mini-connector doctor` recommends); the statement guard is the layer that refuses writes.
 * Not exercised against a real server in this repository's tests: none can run on our CI machines.
 */
export function openMssqlRunner(db: DatabaseConfig): SqlRunner {
  const pool = new sql.ConnectionPool({
    server: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: db.database,
    requestTimeout: db.statementTimeoutMs,
    connectionTimeout: 10_000,
    pool: { max: 4 },
    options: { encrypt: true, trustServerCertificate: false, useUTC: true },
  });
  const connected = pool.connect().catch((err: { code?: string; message?: string }) => {
    throw new DatabaseUnavailableError(`cannot connect to SQL Server at ${db.host}:${db.port}: ${err.code ?? err.message}`);
  });
  return {
    dialect: 'mssql',
    async query(text, params, { maxRows, signal }) {
      await connected;
      const request = pool.request();
      params.forEach((value, i) => request.input(`p${i + 1}`, value));
      request.stream = true;
      return new Promise<QueryResult>((resolve, reject) => {
        const rows: unknown[][] = [];
        let columns: { name: string; type: string }[] = [];
        let truncated = false;
        let settled = false;
        const finish = (err?: Error) => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve({ columns, rows, rowCount: rows.length, truncated });
        };
        const onAbort = () => {
          request.cancel();
          finish(new QueryCancelledError('the query was cancelled'));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        request.on('recordset', (cols: Record<string, { name: string; type: { declaration?: string } }>) => {
          columns = Object.values(cols).map((c) => ({ name: c.name, type: c.type.declaration ?? 'unknown' }));
        });
        request.on('row', (row: Record<string, unknown>) => {
          if (settled) return;
          if (rows.length === maxRows) {
            truncated = true;
            request.cancel();
            finish();
            return;
          }
          rows.push(columns.map((c) => toWire(row[c.name])));
        });
        request.on('error', (err: { code?: string; message: string }) => {
          if (err.code && CONNECTION_ERRORS.has(err.code)) finish(new DatabaseUnavailableError(`SQL Server connection failed: ${err.code}`));
          else finish(err as Error);
        });
        request.on('done', () => finish());
        void request.query(text);
      });
    },
    close: () => pool.close(),
  };
}
