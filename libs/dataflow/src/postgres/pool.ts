import { Pool, type PoolClient, type CustomTypesConfig, type QueryConfig, type QueryResult } from 'pg';
import { DataflowError, DataflowErrorCode } from '../errors';
import type { ServerSettings } from '../types/data-connection';

export type PgSettings = ServerSettings;

/**
 * Every value arrives as PostgreSQL printed it and from-text.ts makes it canonical: no Date
 * objects, no time zone shift, no float or bigint rounding by a driver parser. Set per query,
 * so the catalog queries keep the driver's parsers.
 */
export const RAW_TYPES: CustomTypesConfig = {
  getTypeParser: () => (value: string) => value,
} as unknown as CustomTypesConfig;

/**
 * Session settings travel in the startup packet (no extra round trip): UTC so timestamptz prints
 * as UTC, ISO dates, ISO 8601 intervals, shortest-exact floats, hex bytea.
 */
const SESSION_OPTIONS = [
  'TimeZone=UTC',
  'DateStyle=ISO,YMD',
  'IntervalStyle=iso_8601',
  'extra_float_digits=3',
  'bytea_output=hex',
  'standard_conforming_strings=on',
]
  .map((o) => `-c ${o}`)
  .join(' ');

export function createPgPool(s: PgSettings): Pool {
  const pool = new Pool({
    host: s.host,
    port: s.port,
    user: s.user,
    password: s.password,
    database: s.database,
    max: s.poolSize,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    options: SESSION_OPTIONS,
    application_name: 'vansales-dataflow',
    ...(s.statementTimeoutMs ? { statement_timeout: s.statementTimeoutMs } : {}),
  });
  pool.on('error', () => undefined); // an idle client dropped by the server; the next checkout reconnects
  return pool;
}

/** Clients that already have an error listener (they come back from the pool many times). */
const listening = new WeakSet<object>();

export async function connectPg(pool: Pool, s: PgSettings): Promise<PoolClient> {
  try {
    const client = await pool.connect();
    if (!listening.has(client)) {
      client.on('error', () => undefined); // reported by the statement that fails
      listening.add(client);
    }
    return client;
  } catch (err) {
    throw new DataflowError(
      DataflowErrorCode.CONNECTION_FAILED,
      `cannot connect to PostgreSQL at ${s.host}:${s.port}: ${(err as { code?: string }).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * Asks the server to cancel what a backend runs, again every 250 ms until `done()`: a cancel that
 * lands between the messages of one extended-protocol statement (after Parse, before Execute) is
 * dropped by the server, so one request alone can leave the statement running.
 */
export function cancelBackend(pool: Pool, pid: number, done: () => boolean): void {
  const attempt = () => {
    if (done()) return;
    void pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
    setTimeout(attempt, 250).unref();
  };
  attempt();
}

/**
 * Runs `sql` as exactly one statement: the extended protocol (Parse/Bind/Execute) refuses a text
 * holding two ("cannot insert multiple commands into a prepared statement"), whereas the simple
 * protocol pg uses for a query without values runs all of them. Every statement built from names
 * that came from elsewhere (DDL from a manifest, upserts, deletes) goes through here.
 */
export function runOne(client: Pick<PoolClient, 'query'>, sql: string, values: unknown[] = []): Promise<QueryResult> {
  // pg reads queryMode; its type definitions do not list it yet.
  return client.query({ text: sql, values, queryMode: 'extended' } as QueryConfig);
}
