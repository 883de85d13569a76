import { createPool, type FieldPacket, type PoolConnection } from 'mysql2/promise';
import type { DatabaseConfig } from '../config';
import { DatabaseUnavailableError, QueryCancelledError, type SqlRunner } from './sql-runner';
import { toWire } from './to-wire';

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'PROTOCOL_CONNECTION_LOST', 'ER_ACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR']);

interface StreamedQuery {
  on(event: 'fields', cb: (fields: FieldPacket[]) => void): StreamedQuery;
  on(event: 'result', cb: (row: unknown[]) => void): StreamedQuery;
  on(event: 'error', cb: (err: Error) => void): StreamedQuery;
  on(event: 'end', cb: () => void): StreamedQuery;
}

export function openMysqlRunner(db: DatabaseConfig): SqlRunner {
  const pool = createPool({
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: db.database,
    // One statement per round trip: stacked statements never reach the server.
    multipleStatements: false,
    // Dates as the server wrote them: no parsing, no time zone shift.
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    connectionLimit: 4,
    connectTimeout: 10_000,
  });

  /** Stops the running statement from another connection (the server's own cancel). */
  const kill = (threadId: number) => pool.query(`KILL QUERY ${Number(threadId)}`).catch(() => undefined);

  return {
    dialect: 'mysql',
    async query(sql, params, { maxRows, signal }) {
      let conn: PoolConnection;
      try {
        conn = await pool.getConnection();
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        throw new DatabaseUnavailableError(`cannot connect to MySQL/MariaDB at ${db.host}:${db.port}: ${code || (err as Error).message}`);
      }
      let destroy = false;
      try {
        // MariaDB spells the limit max_statement_time (seconds), MySQL max_execution_time (ms).
        await conn.query(`SET SESSION max_statement_time = ${Math.max(0.001, db.statementTimeoutMs / 1000)}`).catch(() =>
          conn.query(`SET SESSION max_execution_time = ${Math.max(1, db.statementTimeoutMs)}`).catch(() => undefined),
        );
        await conn.query('START TRANSACTION READ ONLY');
        const threadId = conn.threadId;
        const result = await new Promise<{ fields: FieldPacket[]; rows: unknown[][]; truncated: boolean }>((resolve, reject) => {
          const rows: unknown[][] = [];
          let fields: FieldPacket[] = [];
          let truncated = false;
          let settled = false;
          const finish = (err?: Error) => {
            if (settled) return;
            settled = true;
            signal?.removeEventListener('abort', onAbort);
            if (err) reject(err);
            else resolve({ fields, rows, truncated });
          };
          const onAbort = () => {
            destroy = true;
            void kill(threadId);
            finish(new QueryCancelledError('the query was cancelled'));
          };
          signal?.addEventListener('abort', onAbort, { once: true });
          // The callback-style connection streams rows one by one instead of buffering the result.
          const query = (conn.connection as unknown as { query(o: object): StreamedQuery }).query({ sql, values: params, rowsAsArray: true });
          query
            .on('fields', (f) => (fields = f))
            .on('result', (row) => {
              if (settled) return;
              if (rows.length === maxRows) {
                // Enough: stop the server producing the rest, keep what we have.
                truncated = true;
                destroy = true;
                void kill(threadId);
                finish();
                return;
              }
              rows.push(row.map(toWire));
            })
            .on('error', (err) => finish(err))
            .on('end', () => finish());
        });
        return {
          columns: result.fields.map((f) => ({ name: f.name, type: String(f.type ?? f.columnType ?? 'unknown') })),
          rows: result.rows,
          rowCount: result.rows.length,
          truncated: result.truncated,
        };
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (CONNECTION_ERRORS.has(code)) {
          destroy = true;
          throw new DatabaseUnavailableError(`MySQL/MariaDB connection failed: ${code}`);
        }
        throw err;
      } finally {
        if (destroy) conn.destroy();
        else {
          await conn.query('ROLLBACK').catch(() => undefined);
          conn.release();
        }
      }
    },
    close: () => pool.end(),
  };
}
