import { createPool, type Pool, type PoolConnection } from 'mysql2/promise';
import { DataflowError, DataflowErrorCode } from '../errors';
import type { ServerSettings } from '../types/data-connection';

export interface MysqlSettings extends ServerSettings {
  tinyint1: 'boolean' | 'integer';
}

export function createMysqlPool(s: MysqlSettings): Pool {
  return createPool({
    host: s.host,
    port: s.port,
    user: s.user,
    password: s.password,
    database: s.database,
    connectionLimit: s.poolSize,
    connectTimeout: 10_000,
    charset: 'UTF8MB4_UNICODE_CI',
    // One statement per round trip: a value can never smuggle in a second statement.
    multipleStatements: false,
    // Dates and times as the server prints them: never a JS Date, never a time zone shift.
    dateStrings: true,
    // BIGINT as a number when it is safe, else a decimal string (the canonical integer rule).
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: false,
    // JSON text is parsed by the reader, the same way for MySQL's JSON and MariaDB's LONGTEXT.
    jsonStrings: true,
    timezone: 'Z',
  });
}

/** Connections already given the session settings (they persist across pool checkouts). */
const prepared = new WeakSet<object>();

/**
 * The session every statement here runs in: UTC (TIMESTAMP values read and written as UTC),
 * strict (a bad value fails instead of being clipped), NO_AUTO_VALUE_ON_ZERO (an id 0 is copied
 * as 0), backslash escapes on (literals.ts escapes that way) and no CHAR padding on read.
 */
async function prepareSession(conn: PoolConnection, s: MysqlSettings): Promise<void> {
  const [rows] = (await conn.query('SELECT @@SESSION.sql_mode AS mode')) as unknown as [{ mode: string }[]];
  const drop = new Set(['NO_BACKSLASH_ESCAPES', 'PAD_CHAR_TO_FULL_LENGTH', '']);
  const modes = new Set((rows[0]?.mode ?? '').split(',').filter((m) => !drop.has(m)));
  modes.add('STRICT_ALL_TABLES');
  modes.add('NO_AUTO_VALUE_ON_ZERO');
  await conn.query(`SET SESSION time_zone = '+00:00', SESSION sql_mode = '${[...modes].join(',')}'`);
  await setStatementTimeout(conn, s.statementTimeoutMs ?? 0);
}

/** MariaDB spells the limit max_statement_time (seconds), MySQL max_execution_time (ms, SELECT only). */
export async function setStatementTimeout(conn: PoolConnection, ms: number): Promise<void> {
  await conn
    .query(`SET SESSION max_statement_time = ${ms > 0 ? Math.max(0.001, ms / 1000) : 0}`)
    .catch(() => conn.query(`SET SESSION max_execution_time = ${Math.max(0, Math.floor(ms))}`).catch(() => undefined));
}

export async function connectMysql(pool: Pool, s: MysqlSettings): Promise<PoolConnection> {
  let conn: PoolConnection;
  try {
    conn = await pool.getConnection();
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    throw new DataflowError(
      DataflowErrorCode.CONNECTION_FAILED,
      `cannot connect to MySQL/MariaDB at ${s.host}:${s.port}: ${code || (err as Error).message}`,
      { cause: err },
    );
  }
  const raw = conn.connection as unknown as object;
  if (!prepared.has(raw)) {
    try {
      await prepareSession(conn, s);
    } catch (err) {
      conn.destroy();
      throw new DataflowError(
        DataflowErrorCode.CONNECTION_FAILED,
        `cannot set up the MySQL/MariaDB session: ${(err as Error).message}`,
        { cause: err },
      );
    }
    prepared.add(raw);
  }
  return conn;
}
