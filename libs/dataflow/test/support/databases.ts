import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { testServices, throwawayPostgresDatabase } from '@vansales/test-kit';
import {
  comparableValue,
  mapColumns,
  openDataConnection,
  type ColumnSpec,
  type DataConnection,
  type DataConnectionConfig,
} from '@vansales/dataflow';
import type { TableRef } from '@vansales/protocol';

export function postgresConfig(database: string): DataConnectionConfig {
  const url = new URL(testServices().postgresUrl(database));
  return {
    dialect: 'postgres',
    host: url.hostname,
    port: Number(url.port),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)),
  };
}

export function mariadbConfig(database: string): DataConnectionConfig {
  const m = testServices().mariadb;
  return { dialect: 'mysql', host: m.host, port: m.port, user: m.user, password: m.password, database };
}

/** Root SQL on the MariaDB test server (test fixtures only; the library never runs raw SQL from callers). */
export async function mariadbAdmin(sql: string | string[], database?: string): Promise<unknown[]> {
  const conn = await createConnection({
    ...testServices().mariadb,
    ...(database ? { database } : {}),
    multipleStatements: false,
    dateStrings: true,
  });
  try {
    const out: unknown[] = [];
    await conn.query("SET SESSION time_zone = '+00:00'");
    for (const s of Array.isArray(sql) ? sql : [sql]) out.push((await conn.query(s))[0]);
    return out;
  } finally {
    await conn.end();
  }
}

export async function throwawayMariadbDatabase(): Promise<{
  name: string;
  config: DataConnectionConfig;
  drop: () => Promise<void>;
}> {
  const name = `vsc_t_${randomBytes(5).toString('hex')}`;
  await mariadbAdmin(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  return {
    name,
    config: mariadbConfig(name),
    drop: async () => void (await mariadbAdmin(`DROP DATABASE IF EXISTS \`${name}\``)),
  };
}

export async function throwawayPostgres(): Promise<{
  name: string;
  config: DataConnectionConfig;
  drop: () => Promise<void>;
}> {
  const db = await throwawayPostgresDatabase('vsc_t');
  return { name: db.name, config: postgresConfig(db.name), drop: db.drop };
}

export async function open(config: DataConnectionConfig): Promise<DataConnection> {
  return openDataConnection(config);
}

/** Every row of a table in key order, canonical values. */
export async function readAll(
  conn: DataConnection,
  table: TableRef,
  orderBy: string[],
  columns?: string[],
): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for await (const batch of conn.readRows(
    { kind: 'table', table, orderBy, ...(columns ? { columns } : {}) },
    { batchSize: 1000 },
  ))
    out.push(...batch);
  return out;
}

/** Rows reduced to comparableValue, for comparisons across dialects. */
export function comparable(rows: unknown[][], columns: ColumnSpec[]): unknown[][] {
  return rows.map((row) => row.map((v, i) => comparableValue(columns[i]!.type, v)));
}

/** describe -> mapColumns -> createTable -> readRows -> writeRows: what an agent transfer does. */
export async function copyTable(
  source: DataConnection,
  target: DataConnection,
  from: TableRef,
  to: TableRef,
  options: { columns?: string[]; mode?: 'insert' | 'upsert'; batchSize?: number; orderBy?: string[] } = {},
): Promise<{ columns: ColumnSpec[]; targetColumns: ColumnSpec[]; primaryKey: string[]; rows: number }> {
  const described = await source.describeTable(from);
  if (!described) throw new Error(`no table ${from.name}`);
  const columns = options.columns
    ? described.columns.filter((c) => options.columns!.includes(c.name))
    : described.columns;
  const primaryKey = described.primaryKey;
  const orderBy = options.orderBy ?? (primaryKey.length ? primaryKey : columns.map((c) => c.name));
  const targetColumns = mapColumns(columns, target.dialect, to.name, { keyColumns: primaryKey });
  if (!(await target.tableExists(to))) await target.createTable(to, columns, primaryKey);
  let rows = 0;
  for await (const batch of source.readRows(
    { kind: 'table', table: from, columns: columns.map((c) => c.name), orderBy },
    { batchSize: options.batchSize ?? 2000 },
  )) {
    const { written } = await target.writeRows(to, targetColumns, batch, {
      mode: options.mode ?? 'insert',
      keyColumns: primaryKey,
    });
    rows += written;
  }
  return { columns, targetColumns, primaryKey, rows };
}
