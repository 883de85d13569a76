import { Pool, types, type FieldDef, type PoolClient } from 'pg';
import Cursor from 'pg-cursor';
import type { DatabaseConfig } from '../config';
import { DatabaseUnavailableError, FETCH_BATCH, QueryCancelledError, type SqlRunner } from './sql-runner';
import { toWire } from './to-wire';

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', '28P01', '28000', '57P01', '3D000']);

// Dates, times, timestamps and intervals (and their arrays) as PostgreSQL printed them: no parsing, no time zone shift.
const RAW_TYPES = new Set([1082, 1083, 1114, 1184, 1266, 1186, 1182, 1183, 1115, 1185, 1187, 1270]);
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    RAW_TYPES.has(oid) ? (v: string) => v : types.getTypeParser(oid, format as 'text')) as typeof types.getTypeParser,
};

function readBatch(cursor: Cursor, n: number): Promise<{ rows: unknown[][]; fields: FieldDef[] }> {
  return new Promise((resolve, reject) =>
    cursor.read(n, (err, rows, result) => (err ? reject(err) : resolve({ rows: rows as unknown as unknown[][], fields: result?.fields ?? [] }))),
  );
}

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
    application_name: 'vansales-mini-connector',
  });
  pool.on('error', () => undefined); // an idle client dropped by the server; the next query reconnects

  async function connect(): Promise<PoolClient> {
    try {
      return await pool.connect();
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new DatabaseUnavailableError(`cannot connect to PostgreSQL at ${db.host}:${db.port}: ${code ?? (err as Error).message}`);
    }
  }

  return {
    dialect: 'postgres',
    async query(sql, params, { maxRows, signal }) {
      const client = await connect();
      const pid = (client as unknown as { processID: number }).processID;
      const onAbort = () => void pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
      signal?.addEventListener('abort', onAbort, { once: true });
      let broken = false;
      try {
        await client.query('BEGIN READ ONLY');
        // A cursor is a portal of the extended protocol: one statement, rows fetched in batches.
        const cursor = client.query(new Cursor(sql, params, { rowMode: 'array', types: typeParsers }));
        const rows: unknown[][] = [];
        let fields: FieldDef[] = [];
        let truncated = false;
        for (;;) {
          const batch = await readBatch(cursor, Math.min(FETCH_BATCH, maxRows + 1 - rows.length));
          if (batch.fields.length) fields = batch.fields;
          for (const row of batch.rows) {
            if (rows.length === maxRows) {
              truncated = true;
              break;
            }
            rows.push(row.map(toWire));
          }
          if (truncated || batch.rows.length === 0) break;
        }
        await new Promise<void>((resolve) => cursor.close(() => resolve()));
        return { columns: fields.map((f) => ({ name: f.name, type: String(f.dataTypeID) })), rows, rowCount: rows.length, truncated };
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (signal?.aborted) throw new QueryCancelledError('the query was cancelled');
        if (CONNECTION_ERRORS.has(code)) {
          broken = true;
          throw new DatabaseUnavailableError(`PostgreSQL connection failed: ${code}`);
        }
        throw err;
      } finally {
        signal?.removeEventListener('abort', onAbort);
        await client.query('ROLLBACK').catch(() => (broken = true));
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
