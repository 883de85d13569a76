import {
  openDataConnection,
  type BoundedQueryOptions,
  type BoundedQueryResult,
  type DataConnection,
  type DataConnectionConfig,
} from '@vansales/dataflow';
import type { Dialect, SchemaSnapshot } from '@vansales/protocol';
import type { DatabaseConfig } from '../config';
import type { DiscoverOptions } from './catalog/assemble';
import { discoverMysql } from './catalog/discover-mysql';
import { discoverPostgres } from './catalog/discover-postgres';
import { openMssqlDatabase } from './mssql-database';
import { mysqlPrivileges, postgresPrivileges, type PrivilegeReport } from './privileges';

/**
 * A configured database of this site: the one way the agent reaches it. Every operation goes
 * through dataflow's connection, so every one reads values the same way (the encoding in the
 * README) and classifies driver errors with the same table (dataflow's DataflowError codes).
 */
export interface SiteDatabase {
  /** The name the agent's configuration gives it. */
  readonly name: string;
  readonly dialect: Dialect;
  /**
   * One statement the caller's SQL guard allowed: READ ONLY transaction, statement timeout, one
   * statement per round trip, at most maxRows rows read (and one more to know it truncated).
   */
  query(sql: string, params: unknown[], options: BoundedQueryOptions): Promise<BoundedQueryResult>;
  /** Schemas, tables, views, columns, keys, indexes and row estimates, read in one READ ONLY transaction. */
  catalog(options?: DiscoverOptions): Promise<SchemaSnapshot>;
  /** What the login could do beyond reading (`mini-connector doctor`). */
  privileges(): Promise<PrivilegeReport>;
  /** A connection of its own for row reads and writes (data.extract, data.load, data.transfer); the caller closes it. */
  rows(): Promise<DataConnection>;
  close(): Promise<void>;
}

export function dataConnectionConfig(db: DatabaseConfig): DataConnectionConfig {
  return {
    dialect: db.dialect,
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: db.database,
    statementTimeoutMs: db.statementTimeoutMs,
  };
}

/**
 * Opens nothing until first used; the shared connection (queries, catalog, privileges) is opened
 * once and kept, and a failed open is retried by the next call.
 */
export function openSiteDatabase(name: string, db: DatabaseConfig): SiteDatabase {
  if (db.dialect === 'mssql') return openMssqlDatabase(name, db);
  let shared: Promise<DataConnection> | undefined;
  const connection = () =>
    (shared ??= openDataConnection(dataConnectionConfig(db)).catch((err: unknown) => {
      shared = undefined;
      throw err;
    }));
  return {
    name,
    dialect: db.dialect,
    query: async (sql, params, options) => (await connection()).query(sql, params, options),
    catalog: async (options = {}) => {
      const conn = await connection();
      return db.dialect === 'postgres' ? discoverPostgres(conn, options) : discoverMysql(conn, db.database, options);
    },
    privileges: async () => {
      const conn = await connection();
      return conn.inspect((query) =>
        db.dialect === 'postgres' ? postgresPrivileges(query, db.database) : mysqlPrivileges(query, db.database),
      );
    },
    rows: () => openDataConnection(dataConnectionConfig(db)),
    close: async () => {
      const opened = shared;
      shared = undefined;
      await (await opened?.catch(() => undefined))?.close();
    },
  };
}

/** The site's databases by configured name, each opened on first use and closed with the agent. */
export interface SiteDatabases {
  get(name: string): SiteDatabase | undefined;
  close(): Promise<void>;
}

export function siteDatabases(configured: Record<string, DatabaseConfig>): SiteDatabases {
  const opened = new Map<string, SiteDatabase>();
  return {
    get(name) {
      const db = Object.hasOwn(configured, name) ? configured[name] : undefined;
      if (!db) return undefined;
      let site = opened.get(name);
      if (!site) opened.set(name, (site = openSiteDatabase(name, db)));
      return site;
    },
    async close() {
      await Promise.all([...opened.values()].map((d) => d.close().catch(() => undefined)));
      opened.clear();
    },
  };
}

/** A database to discover once, outside an agent (tests, benchmarks): the statement timeout defaults to 30 s. */
export type DiscoveryTarget = Omit<DatabaseConfig, 'statementTimeoutMs'> & { statementTimeoutMs?: number };

/** Opens the database, reads its catalog snapshot, closes it. */
export async function discoverSchema(target: DiscoveryTarget, options: DiscoverOptions = {}): Promise<SchemaSnapshot> {
  const site = openSiteDatabase(target.database, {
    ...target,
    statementTimeoutMs: target.statementTimeoutMs ?? 30_000,
  });
  try {
    return await site.catalog(options);
  } finally {
    await site.close();
  }
}
