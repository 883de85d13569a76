import { createPool, type FieldPacket } from 'mysql2/promise';
import type { DatabaseConfig } from '../config';
import { DatabaseUnavailableError, type SqlRunner } from './sql-runner';
import { toWire } from './to-wire';

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'PROTOCOL_CONNECTION_LOST', 'ER_ACCESS_DENIED_ERROR']);

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
  return {
    async query(sql, params, maxRows) {
      let conn;
      try {
        conn = await pool.getConnection();
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        throw new DatabaseUnavailableError(`cannot connect to MySQL/MariaDB at ${db.host}:${db.port}: ${code || (err as Error).message}`);
      }
      try {
        await conn.query(`SET SESSION max_statement_time = ${Math.max(0.1, db.statementTimeoutMs / 1000)}`).catch(() => undefined);
        await conn.query('START TRANSACTION READ ONLY');
        try {
          const [rows, fields] = (await conn.query({ sql, values: params, rowsAsArray: true })) as [unknown[][], FieldPacket[]];
          const all = Array.isArray(rows) ? rows : [];
          return {
            columns: (fields ?? []).map((f) => ({ name: f.name, type: String(f.type ?? f.columnType ?? 'unknown') })),
            rows: all.slice(0, maxRows).map((r) => r.map(toWire)),
            rowCount: Math.min(all.length, maxRows),
            truncated: all.length > maxRows,
          };
        } finally {
          await conn.query('ROLLBACK').catch(() => undefined);
        }
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (CONNECTION_ERRORS.has(code)) throw new DatabaseUnavailableError(`MySQL/MariaDB connection failed: ${code}`);
        throw err;
      } finally {
        conn.release();
      }
    },
    close: () => pool.end(),
  };
}
