import type { Pool, PoolClient, QueryConfig } from 'pg';
import { withReadOnlySession } from './read-only-session';
import { DataflowError, DataflowErrorCode, normaliseError } from '../errors';
import { quoteIdent, quoteLiteral, quoteTable } from '../identifiers';
import { checkWriteKeys, keysetAfter } from '../keyset';
import { createTableSql, mapColumns } from '../mapping/map-columns';
import { showName } from '../mapping/type-names';
import { type CanonicalType, type ColumnSpec } from '../types/canonical-type';
import { tableLabel, type TableRef } from '@vansales/protocol';
import type {
  BoundedQueryOptions,
  BoundedQueryResult,
  CatalogQuery,
  DataConnection,
  NotificationListener,
  TableDescription,
} from '../types/data-connection';
import { queryPostgres } from './query';
import {
  describeFields,
  describePgTable,
  describeTableWithBases,
  enumLabels,
  listPgTables,
  pgTableExists,
} from './catalog';
import { pgToText } from './copy-text';
import { connectPg, createPgPool, runOne, type PgSettings } from './pool';
import { listenPostgres } from './listen';
import { readPostgres, readPostgresLines } from './reader';
import { insertLinesPostgres, writePostgres } from './writer';

export async function openPostgresConnection(settings: PgSettings): Promise<DataConnection> {
  const pool = createPgPool(settings);
  // Fail now, with a clear error, rather than at the first read.
  const probe = await connectPg(pool, settings).catch(async (err: unknown) => {
    await pool.end().catch(() => undefined);
    throw err;
  });
  probe.release();
  return new PostgresConnection(pool, settings);
}

/** Keys per DELETE statement (one statement per round trip, bind parameters well below the limits). */
const DELETE_BATCH = 1000;

class PostgresConnection implements DataConnection {
  readonly dialect = 'postgres' as const;
  /** Target tables' descriptions for writes (encoders follow the real column types). */
  private readonly described = new Map<string, { description: TableDescription; bases: string[] }>();

  constructor(
    private readonly pool: Pool,
    private readonly settings: PgSettings,
  ) {}

  private async withClient<T>(
    what: string,
    table: string | undefined,
    fn: (client: PoolClient) => Promise<T>,
  ): Promise<T> {
    const client = await connectPg(this.pool, this.settings);
    let broken = false;
    try {
      return await fn(client);
    } catch (err) {
      const e = normaliseError(err, DataflowErrorCode.READ_FAILED, what, table ? { table } : {});
      if (e.code === DataflowErrorCode.CONNECTION_FAILED) broken = true;
      throw e;
    } finally {
      client.release(broken ? new Error('discarded') : undefined);
    }
  }

  private async targetDescription(table: TableRef): Promise<{ description: TableDescription; bases: string[] }> {
    const key = JSON.stringify([table.schema ?? null, table.name]);
    let d = this.described.get(key);
    if (!d) {
      quoteTable(table, 'postgres');
      d = await this.withClient(`cannot describe ${tableLabel(table)}`, tableLabel(table), (c) =>
        describeTableWithBases(c, table),
      );
      if (!d)
        throw new DataflowError(DataflowErrorCode.NOT_FOUND, `table ${tableLabel(table)} does not exist`, {
          table: tableLabel(table),
        });
      this.described.set(key, d);
    }
    return d;
  }

  /** Types (and base type names) of the named columns of a target table. */
  private async columnTypes(table: TableRef, names: string[]): Promise<{ types: CanonicalType[]; bases: string[] }> {
    const d = await this.targetDescription(table);
    const types: CanonicalType[] = [];
    const bases: string[] = [];
    for (const n of names) {
      const i = d.description.columns.findIndex((x) => x.name === n);
      if (i < 0)
        throw new DataflowError(DataflowErrorCode.NOT_FOUND, `column ${n} is not a column of ${tableLabel(table)}`, {
          table: tableLabel(table),
          column: n,
        });
      types.push(d.description.columns[i]!.type);
      bases.push(d.bases[i]!);
    }
    return { types, bases };
  }

  async listTables(schema?: string) {
    return this.withClient('cannot list tables', undefined, (c) => listPgTables(c, schema));
  }

  async describeTable(table: TableRef) {
    quoteTable(table, 'postgres');
    return this.withClient(`cannot describe ${tableLabel(table)}`, tableLabel(table), (c) => describePgTable(c, table));
  }

  async describeQuery(sql: string, params?: unknown[]): Promise<ColumnSpec[]> {
    return this.withClient('cannot describe the query', undefined, async (c) => {
      await c.query('BEGIN READ ONLY');
      try {
        // Extended protocol: a second statement in the text cannot run.
        await c.query({
          text: `DECLARE vsc_describe NO SCROLL CURSOR FOR ${sql.replace(/;\s*$/, '')}`,
          values: params ?? [],
          queryMode: 'extended',
        } as QueryConfig);
        const result = await c.query({ text: 'FETCH FORWARD 0 FROM vsc_describe', rowMode: 'array' });
        return await describeFields(c, result.fields);
      } finally {
        await c.query('ROLLBACK').catch(() => undefined);
      }
    });
  }

  readLines(source: Parameters<DataConnection['readRows']>[0], options: Parameters<DataConnection['readRows']>[1]) {
    // COPY takes no parameters: a keyset start or an incremental window reads by rows.
    if (source.kind !== 'table' || source.after !== undefined || source.incremental !== undefined) return undefined;
    return readPostgresLines(this.pool, this.settings, source, options);
  }

  readRows(source: Parameters<DataConnection['readRows']>[0], options: Parameters<DataConnection['readRows']>[1]) {
    return readPostgres(this.pool, this.settings, source, options);
  }

  async tableExists(table: TableRef) {
    quoteTable(table, 'postgres');
    return this.withClient(`cannot look up ${tableLabel(table)}`, tableLabel(table), (c) => pgTableExists(c, table));
  }

  async createTable(table: TableRef, columns: ColumnSpec[], primaryKey: string[]): Promise<void> {
    const label = tableLabel(table);
    const mapped = mapColumns(columns, 'postgres', table.name, { keyColumns: primaryKey });
    const sql = createTableSql('postgres', table, mapped, primaryKey);
    await this.withClient(`cannot create ${label}`, label, async (c) => {
      await assertTypesExist(c, label, mapped);
      await c.query('BEGIN');
      try {
        for (const col of mapped) {
          const t = col.type.kind === 'array' ? col.type.element : col.type;
          // The mapped DDL type is the enum type's name (see pgDdlType).
          if (t.kind === 'enum')
            await this.ensureEnum(c, table, col.nativeType.replace(/\[\]$/, ''), t.values, col.name);
        }
        await runOne(c, sql);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err instanceof DataflowError
          ? err
          : new DataflowError(DataflowErrorCode.DDL_FAILED, `cannot create ${label}: ${(err as Error).message}`, {
              table: label,
              cause: err,
            });
      }
    });
    this.described.delete(JSON.stringify([table.schema ?? null, table.name]));
  }

  /** Reuses an enum type with the same labels, creates a missing one, refuses a different one. */
  private async ensureEnum(
    c: PoolClient,
    table: TableRef,
    name: string,
    values: string[],
    column: string,
  ): Promise<void> {
    const existing = await enumLabels(c, table.schema, name);
    const ref = quoteTable({ ...(table.schema !== undefined ? { schema: table.schema } : {}), name }, 'postgres');
    if (existing === undefined) {
      await runOne(c, `CREATE TYPE ${ref} AS ENUM (${values.map((v) => quoteLiteral(v, 'postgres')).join(', ')})`);
      return;
    }
    if (existing.length !== values.length || existing.some((v, i) => v !== values[i])) {
      const label = tableLabel(table);
      throw new DataflowError(
        DataflowErrorCode.DDL_FAILED,
        `type ${name} for ${label}.${column} exists with other labels (${existing.join(', ')})`,
        { table: label, column },
      );
    }
  }

  async writeRows(
    table: TableRef,
    columns: ColumnSpec[],
    rows: unknown[][],
    options: Parameters<DataConnection['writeRows']>[3],
  ) {
    const label = tableLabel(table);
    quoteTable(table, 'postgres');
    const names = columns.map((c) => c.name);
    if (options.mode === 'upsert') checkWriteKeys(names, options.keyColumns, label);
    const { types, bases } = await this.columnTypes(table, names);
    return writePostgres(this.pool, this.settings, table, names, types, bases, rows, options);
  }

  async insertLines(
    table: TableRef,
    columns: ColumnSpec[],
    declared: ColumnSpec[] | undefined,
    lines: Buffer,
    rowCount: number,
    options: { signal?: AbortSignal },
  ) {
    quoteTable(table, 'postgres');
    const names = columns.map((c) => c.name);
    const { types } = await this.columnTypes(table, names);
    return insertLinesPostgres(this.pool, this.settings, table, names, types, declared, lines, rowCount, options);
  }

  async deleteAfter(table: TableRef, keyColumns: string[], after: unknown[]): Promise<number> {
    const label = tableLabel(table);
    if (after.length !== 0 && after.length !== keyColumns.length)
      throw new DataflowError(
        DataflowErrorCode.BAD_REQUEST,
        `'after' has ${after.length} values for ${keyColumns.length} key columns`,
        { table: label },
      );
    const { types } = await this.columnTypes(table, keyColumns);
    const params = after.map((v, i) => pgToText(types[i]!)(v));
    const where = after.length
      ? ` WHERE ${keysetAfter(
          'postgres',
          keyColumns.map((k) => quoteIdent(k, 'postgres')),
          params.map((_, i) => `$${i + 1}`),
        )}`
      : '';
    return this.withClient(`cannot delete from ${label}`, label, async (c) => {
      const r = await runOne(c, `DELETE FROM ${quoteTable(table, 'postgres')}${where}`, params);
      return r.rowCount ?? 0;
    });
  }

  async deleteKeys(table: TableRef, keyColumns: string[], keys: unknown[][]): Promise<number> {
    const label = tableLabel(table);
    if (keys.length === 0) return 0;
    const { types } = await this.columnTypes(table, keyColumns);
    const toText = types.map((t) => pgToText(t));
    const columns = keyColumns.map((k) => quoteIdent(k, 'postgres')).join(', ');
    return this.withClient(`cannot delete from ${label}`, label, async (c) => {
      await c.query('BEGIN');
      try {
        let deleted = 0;
        for (let i = 0; i < keys.length; i += DELETE_BATCH) {
          const batch = keys.slice(i, i + DELETE_BATCH);
          const params: unknown[] = [];
          const tuples = batch
            .map((key) => `(${key.map((v, j) => (params.push(toText[j]!(v)), `$${params.length}`)).join(', ')})`)
            .join(', ');
          const r = await runOne(
            c,
            `DELETE FROM ${quoteTable(table, 'postgres')} WHERE (${columns}) IN (${tuples})`,
            params,
          );
          deleted += r.rowCount ?? 0;
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
    return this.withClient(`cannot count ${label}`, label, async (c) => {
      const r = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteTable(table, 'postgres')}`);
      return Number(r.rows[0]!.n);
    });
  }

  query(sql: string, params: unknown[], options: BoundedQueryOptions): Promise<BoundedQueryResult> {
    return queryPostgres(this.pool, this.settings, sql, params, options);
  }

  inspect<T>(fn: (query: CatalogQuery) => Promise<T>, options: { signal?: AbortSignal } = {}): Promise<T> {
    const messages = { cancelledMessage: 'cancelled', failureMessage: 'cannot read the catalog' };
    return withReadOnlySession(
      this.pool,
      this.settings,
      { signal: options.signal, ...messages },
      (client, assertNotAborted) =>
        // Extended protocol: one statement per round trip, whatever the text holds.
        // (pg reads queryMode; its type definitions do not list it yet.)
        fn(async <R>(sql: string, params?: unknown[]) => {
          // Checked before every statement: a cancel sent between two statements stops neither.
          assertNotAborted();
          return (await client.query({ text: sql, values: params ?? [], queryMode: 'extended' } as QueryConfig))
            .rows as R[];
        }),
    );
  }

  listen(channel: string): Promise<NotificationListener> {
    return listenPostgres(this.pool, this.settings, channel);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * A native type name (the `other` family: ranges, inet, xml...) must name a type this server has,
 * and of a kind pgCanonicalType maps to `other` (base, range, multirange): resolved through pg_type
 * by to_regtype, as a parameter, before it is written into any DDL. A table's row type (composite)
 * resolves too, and is refused here.
 */
async function assertTypesExist(c: PoolClient, label: string, columns: ColumnSpec[]): Promise<void> {
  for (const col of columns) {
    const t = col.type.kind === 'array' ? col.type.element : col.type;
    if (t.kind !== 'other' || t.dialect !== 'postgres') continue;
    const r = await runOne(
      c,
      "SELECT typtype FROM pg_catalog.pg_type WHERE oid = to_regtype($1) AND typtype IN ('b', 'r', 'm')",
      [t.name],
    );
    if (r.rows.length === 0)
      throw new DataflowError(
        DataflowErrorCode.UNMAPPABLE_TYPE,
        `cannot create ${label}: column ${col.name} has type ${showName(t.name)}, which is not a base or range type of this PostgreSQL server`,
        { table: label, column: col.name },
      );
  }
}
