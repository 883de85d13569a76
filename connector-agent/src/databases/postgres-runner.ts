import { Pool, types, type QueryArrayConfig } from 'pg';
import type { DatabaseConfig } from '../config';
import { DatabaseUnavailableError, type SqlRunner } from './sql-runner';
import { toWire } from './to-wire';

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', '28P01', '28000', '57P01', '3D000']);

// Dates, times and timestamps as PostgreSQL printed them: no parsing, no time zone shift.
const RAW_TYPES = [1082, 1083, 1114, 1184, 1266];
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    RAW_TYPES.includes(oid) ? (v: string) => v : types.getTypeParser(oid, format as 'text')) as typeof types.getTypeParser,
};

export function openPostgresRunner(db: DatabaseConfig): SqlRunner {
  const pool = new Pool({
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: db.database,
    max: 4,
    connectionTimeoutMillis: 10_000,
    statement_timeout: db.statementTimeoutMs,
    types: typeParsers,
  });
  pool.on('error', () => undefined); // an idle client dropped by the server; the next query reconnects
  return {
    async query(sql, params, maxRows) {
      let client;
      try {
        client = await pool.connect();
      } catch (err) {
        throw new DatabaseUnavailableError(`cannot connect to PostgreSQL at ${db.host}:${db.port}: ${(err as { code?: string }).code ?? (err as Error).message}`);
      }
      try {
        await client.query('BEGIN READ ONLY');
        try {
          // The extended protocol carries exactly one statement, even without parameters.
          const config: QueryArrayConfig & { queryMode: 'extended' } = { text: sql, values: params, rowMode: 'array', queryMode: 'extended' };
          const result = await client.query(config);
          const all = (result.rows ?? []) as unknown[][];
          return {
            columns: (result.fields ?? []).map((f) => ({ name: f.name, type: String(f.dataTypeID) })),
            rows: all.slice(0, maxRows).map((r) => r.map(toWire)),
            rowCount: Math.min(all.length, maxRows),
            truncated: all.length > maxRows,
          };
        } finally {
          await client.query('ROLLBACK').catch(() => undefined);
        }
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (CONNECTION_ERRORS.has(code)) throw new DatabaseUnavailableError(`PostgreSQL connection failed: ${code}`);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
