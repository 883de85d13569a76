import type { Pool, PoolConnection } from 'mysql2/promise';
import { DataflowError, DataflowErrorCode, normaliseError } from '../errors';
import { quoteIdent, quoteTable } from '../identifiers';
import { checkWriteKeys, keysetAfter } from '../keyset';
import { createTableSql, mapColumns } from '../mapping/map-columns';
import { type CanonicalType, type ColumnSpec } from '../types/canonical-type';
import { tableLabel, type TableRef } from '@vansales/protocol';
import type {
  BoundedQueryOptions,
  BoundedQueryResult,
  CatalogQuery,
  DataConnection,
  TableDescription,
} from '../types/data-connection';
import { queryMysql } from './query';
import { describeQuery, describeMysqlTable, listMysqlTables, serverInfo, mysqlTableExists } from './catalog';
import { mysqlLiteral } from './literals';
import { connectMysql, createMysqlPool, type MysqlSettings } from './pool';
import { readMysql } from './reader';
import { insertLinesMysql, writeMysql } from './writer';

export async function openMysqlConnection(settings: MysqlSettings): Promise<DataConnection> {
  const pool = createMysqlPool(settings);
  let info: { maxAllowedPacket: number; mariadb: boolean };
  try {
    const conn = await connectMysql(pool, settings);
    try {
      info = await serverInfo(conn);
    } finally {
      conn.release();
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return new MysqlConnection(pool, settings, info.maxAllowedPacket);
}

/** Keys per DELETE statement (one statement per round trip, bind parameters well below the limits). */
const DELETE_BATCH = 1000;

class MysqlConnection implements DataConnection {
  readonly dialect = 'mysql' as const;
  private readonly described = new Map<string, TableDescription>();

  constructor(
    private readonly pool: Pool,
    private readonly settings: MysqlSettings,
    private readonly maxAllowedPacket: number,
  ) {}

  private async withConn<T>(
    what: string,
    table: string | undefined,
    fn: (conn: PoolConnection) => Promise<T>,
  ): Promise<T> {
    const conn = await connectMysql(this.pool, this.settings);
    let broken = false;
    try {
      return await fn(conn);
    } catch (err) {
      const e = normaliseError(err, DataflowErrorCode.READ_FAILED, what, table ? { table } : {});
      if (e.code === DataflowErrorCode.CONNECTION_FAILED) broken = true;
      throw e;
    } finally {
      if (broken) conn.destroy();
      else conn.release();
    }
  }

  private async columnTypes(table: TableRef, names: string[]): Promise<CanonicalType[]> {
    const key = JSON.stringify([table.schema ?? null, table.name]);
    let d = this.described.get(key);
    if (!d) {
      d = await this.describeTable(table);
      if (!d)
        throw new DataflowError(DataflowErrorCode.NOT_FOUND, `table ${tableLabel(table)} does not exist`, {
          table: tableLabel(table),
        });
      this.described.set(key, d);
    }
    const cols = d.columns;
    return names.map((n) => {
      const c = cols.find((x) => x.name === n);
      if (!c)
        throw new DataflowError(DataflowErrorCode.NOT_FOUND, `column ${n} is not a column of ${tableLabel(table)}`, {
          table: tableLabel(table),
          column: n,
        });
      return c.type;
    });
  }

  async listTables(schema?: string) {
    if (schema !== undefined) quoteIdent(schema, 'mysql');
    return this.withConn('cannot list tables', undefined, (c) => listMysqlTables(c, schema));
  }

  async describeTable(table: TableRef) {
    quoteTable(table, 'mysql');
    return this.withConn(`cannot describe ${tableLabel(table)}`, tableLabel(table), (c) =>
      describeMysqlTable(c, table, this.settings),
    );
  }

  async describeQuery(sql: string): Promise<ColumnSpec[]> {
    return this.withConn('cannot describe the query', undefined, async (c) => {
      await c.query('START TRANSACTION READ ONLY');
      try {
        return await describeQuery(c, sql.replace(/;\s*$/, ''), this.settings);
      } finally {
        await c.query('ROLLBACK').catch(() => undefined);
      }
    });
  }

  readRows(source: Parameters<DataConnection['readRows']>[0], options: Parameters<DataConnection['readRows']>[1]) {
    return readMysql(this.pool, this.settings, source, options);
  }

  async tableExists(table: TableRef) {
    quoteTable(table, 'mysql');
    return this.withConn(`cannot look up ${tableLabel(table)}`, tableLabel(table), (c) => mysqlTableExists(c, table));
  }

  async createTable(table: TableRef, columns: ColumnSpec[], primaryKey: string[]): Promise<void> {
    const label = tableLabel(table);
    const mapped = mapColumns(columns, 'mysql', table.name, { keyColumns: primaryKey });
    const sql = createTableSql('mysql', table, mapped, primaryKey);
    await this.withConn(`cannot create ${label}`, label, async (c) => {
      try {
        await c.query(sql);
      } catch (err) {
        throw new DataflowError(DataflowErrorCode.DDL_FAILED, `cannot create ${label}: ${(err as Error).message}`, {
          table: label,
          cause: err,
        });
      }
    });
    this.described.delete(JSON.stringify([table.schema ?? null, table.name]));
  }

  async writeRows(
    table: TableRef,
    columns: ColumnSpec[],
    rows: unknown[][],
    options: Parameters<DataConnection['writeRows']>[3],
  ) {
    const label = tableLabel(table);
    quoteTable(table, 'mysql');
    const names = columns.map((c) => c.name);
    if (options.mode === 'upsert') checkWriteKeys(names, options.keyColumns, label);
    const types = await this.columnTypes(table, names);
    return writeMysql(this.pool, this.settings, this.maxAllowedPacket, table, names, types, rows, options);
  }

  async insertLines(
    table: TableRef,
    columns: ColumnSpec[],
    declared: ColumnSpec[] | undefined,
    lines: Buffer,
    rowCount: number,
    options: { signal?: AbortSignal },
  ) {
    quoteTable(table, 'mysql');
    const names = columns.map((c) => c.name);
    const types = await this.columnTypes(table, names);
    return insertLinesMysql(this.pool, this.settings, table, names, types, declared, lines, rowCount, options);
  }

  async deleteAfter(table: TableRef, keyColumns: string[], after: unknown[]): Promise<number> {
    const label = tableLabel(table);
    if (after.length !== 0 && after.length !== keyColumns.length)
      throw new DataflowError(
        DataflowErrorCode.BAD_REQUEST,
        `'after' has ${after.length} values for ${keyColumns.length} key columns`,
        { table: label },
      );
    const types = await this.columnTypes(table, keyColumns);
    const literals = after.map((v, i) => mysqlLiteral(types[i]!)(v));
    const where = after.length
      ? ` WHERE ${keysetAfter(
          'mysql',
          keyColumns.map((k) => quoteIdent(k, 'mysql')),
          literals,
        )}`
      : '';
    return this.withConn(`cannot delete from ${label}`, label, async (c) => {
      const [result] = (await c.query(`DELETE FROM ${quoteTable(table, 'mysql')}${where}`)) as unknown as [
        { affectedRows: number },
      ];
      return result.affectedRows;
    });
  }

  async deleteKeys(table: TableRef, keyColumns: string[], keys: unknown[][]): Promise<number> {
    const label = tableLabel(table);
    if (keys.length === 0) return 0;
    const types = await this.columnTypes(table, keyColumns);
    const literals = types.map((t) => mysqlLiteral(t));
    const columns = keyColumns.map((k) => quoteIdent(k, 'mysql')).join(', ');
    return this.withConn(`cannot delete from ${label}`, label, async (c) => {
      await c.query('START TRANSACTION');
      try {
        let deleted = 0;
        for (let i = 0; i < keys.length; i += DELETE_BATCH) {
          const tuples = keys
            .slice(i, i + DELETE_BATCH)
            .map((key) => `(${key.map((v, j) => literals[j]!(v)).join(', ')})`)
            .join(', ');
          const [result] = (await c.query(
            `DELETE FROM ${quoteTable(table, 'mysql')} WHERE (${columns}) IN (${tuples})`,
          )) as unknown as [{ affectedRows: number }];
          deleted += result.affectedRows;
        }
        await c.query('COMMIT');
        return deleted;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  async countRows(table: TableRef): Promise<number> {
    const label = tableLabel(table);
    quoteTable(table, this.dialect);
    return this.withConn(`cannot count ${label}`, label, async (c) => {
      const [rows] = (await c.query(`SELECT COUNT(*) AS n FROM ${quoteTable(table, 'mysql')}`)) as unknown as [
        { n: number | string }[],
      ];
      return Number(rows[0]!.n);
    });
  }

  query(sql: string, params: unknown[], options: BoundedQueryOptions): Promise<BoundedQueryResult> {
    return queryMysql(this.pool, this.settings, sql, params, options);
  }

  async inspect<T>(fn: (query: CatalogQuery) => Promise<T>, options: { signal?: AbortSignal } = {}): Promise<T> {
    const { signal } = options;
    if (signal?.aborted) throw new DataflowError(DataflowErrorCode.CANCELLED, 'cancelled');
    const conn = await connectMysql(this.pool, this.settings);
    let destroy = false;
    const onAbort = () => {
      destroy = true;
      // The whole connection (it is dropped anyway): a KILL QUERY that lands before the statement starts is lost.
      void this.pool.query(`KILL ${Number(conn.threadId)}`).catch(() => undefined);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await conn.query('START TRANSACTION READ ONLY');
      return await fn(async <R>(sql: string, params?: unknown[]) => {
        // Checked before every statement, so none starts after the abort.
        if (signal?.aborted) throw new DataflowError(DataflowErrorCode.CANCELLED, 'cancelled');
        const [rows] = (await conn.query({ sql, values: params ?? [] })) as unknown as [R[]];
        return rows;
      });
    } catch (err) {
      if (signal?.aborted) throw new DataflowError(DataflowErrorCode.CANCELLED, 'cancelled', { cause: err });
      const e = normaliseError(err, DataflowErrorCode.READ_FAILED, 'cannot read the catalog');
      if (e.code === DataflowErrorCode.CONNECTION_FAILED) destroy = true;
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (destroy) conn.destroy();
      else {
        await conn.query('ROLLBACK').catch(() => undefined);
        conn.release();
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
