import type { ConnectionPool } from 'mssql';
import { DataflowError, DataflowErrorCode, normaliseError, type BoundedQueryResult } from '@vansales/dataflow';
import type { DatabaseConfig } from '../config';
import { MSSQL_PRIVILEGES } from './privileges';
import type { SiteDatabase } from './site-database';

/**
 * SQL Server. The data plane has no SQL Server connection yet, so this keeps its own pool for the
 * bounded query and discovery, and row reads and writes are refused with UNSUPPORTED_DIALECT.
 * It has no READ ONLY transaction, so layer 4 here is the site's read-only login (what
 * `mini-connector doctor` recommends); the statement guard is the layer that refuses writes.
 * Not exercised against a real server in this repository's tests: none can run on our CI machines.
 */
export function openMssqlDatabase(name: string, db: DatabaseConfig): SiteDatabase {
  // The driver (and the Azure libraries under it) loads only on a site that has a SQL Server.
  let connected: Promise<ConnectionPool> | undefined;
  const connect = () =>
    (connected ??= (async () => {
      const sql = (await import('mssql')).default;
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
      pool.on('error', () => undefined); // reported by the request that fails
      try {
        return await pool.connect();
      } catch (err) {
        connected = undefined;
        const e = err as { code?: string; message?: string };
        throw new DataflowError(
          DataflowErrorCode.CONNECTION_FAILED,
          `cannot connect to SQL Server at ${db.host}:${db.port}: ${e.code ?? e.message}`,
          { cause: err },
        );
      }
    })());
  return {
    name,
    dialect: 'mssql',
    async query(text, params, { maxRows, signal }) {
      const request = (await connect()).request();
      params.forEach((value, i) => request.input(`p${i + 1}`, value));
      request.stream = true;
      return new Promise<BoundedQueryResult>((resolve, reject) => {
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
          finish(new DataflowError(DataflowErrorCode.CANCELLED, 'the query was cancelled'));
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
          rows.push(columns.map((c) => mssqlValue(row[c.name])));
        });
        request.on('error', (err: Error) =>
          finish(normaliseError(err, DataflowErrorCode.READ_FAILED, 'the query failed')),
        );
        request.on('done', () => finish());
        void request.query(text);
      });
    },
    catalog: async (options) => (await import('./catalog/discover-mssql')).discoverMssql(db, options),
    privileges: async () => MSSQL_PRIVILEGES,
    rows: async () => {
      throw new DataflowError(
        DataflowErrorCode.UNSUPPORTED_DIALECT,
        'SQL Server is not supported yet for reading or writing rows (its type mapping and DDL are: mapColumns, createTableSql)',
      );
    },
    close: async () => {
      const pool = connected;
      connected = undefined;
      await (await pool?.catch(() => undefined))?.close();
    },
  };
}

/** The agent's value encoding for what the mssql driver returns (dates come as UTC Date objects). */
function mssqlValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return { $binary: value.toString('base64') };
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  return value;
}
