import { z } from 'zod';
import { type ColumnSpec } from './canonical-type';
import { Dialect, type TableRef } from '@vansales/protocol';

export const DataConnectionConfig = z.object({
  dialect: Dialect,
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  user: z.string(),
  password: z.string(),
  database: z.string().min(1),
  /**
   * Bounds each statement. A MySQL streamed read is one statement for the whole table, so
   * readRows on MySQL is bounded by its AbortSignal instead (see README).
   */
  statementTimeoutMs: z.number().int().positive().optional(),
  /**
   * How MySQL `tinyint(1)` / BOOLEAN columns are described: 'boolean' (default; a stored value
   * other than 0/1 then fails the read with BAD_VALUE rather than being squashed to true) or
   * 'integer' (tinyint, values kept as they are).
   */
  mysqlTinyint1: z.enum(['boolean', 'integer']).optional(),
  /** Connections kept per DataConnection (reads and writes each hold one while they run). Default 4. */
  poolSize: z.number().int().min(1).max(64).optional(),
});
export type DataConnectionConfig = z.input<typeof DataConnectionConfig>;

/** What both dialects' pools are opened with (DataConnectionConfig after defaults). */
export interface ServerSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  statementTimeoutMs?: number;
  poolSize: number;
}

export interface KeysetIncremental {
  /** The cursor column (updated_at, id...); rows where it is NULL are never read. */
  column: string;
  /** Exclusive lower bound (the last cursor value already synced). */
  after?: unknown;
  /** Inclusive upper bound, fixed when the sync starts so rows written meanwhile wait for the next run. */
  upTo?: unknown;
}

export type ReadSource =
  | {
      kind: 'table';
      table: TableRef;
      /** Default: every column in table order. */
      columns?: string[];
      /** Key columns, ascending; empty = no order and no keyset (fastest plain scan). */
      orderBy: string[];
      /**
       * Exclusive keyset start: canonical values of the order columns of the last row already
       * read. With `incremental`, the order is [incremental.column, ...orderBy] and so is `after`.
       */
      after?: unknown[];
      incremental?: KeysetIncremental;
      /** At most this many rows (the first ones in order): a bounded batch, not a whole table. */
      limit?: number;
    }
  | { kind: 'query'; sql: string /* already checked read-only by the caller */; params?: unknown[] };

/**
 * Rows as the buffer's chunk lines: JSON.stringify of each canonical row, each line ending with a
 * newline; `last`: the last row's values (for keyset positions).
 */
export interface LineBatch {
  lines: Buffer;
  rows: number;
  last: unknown[];
}

export interface ReadOptions {
  batchSize: number;
  signal?: AbortSignal;
  /**
   * Order text key columns by code point (PostgreSQL COLLATE "C", MySQL binary UTF-8) instead of
   * the column's collation, so two dialects list rows in the same order (tableChecksum uses it).
   * Such an ORDER BY may not use the index.
   */
  binaryOrder?: boolean;
}

export interface WriteOptions {
  mode: 'insert' | 'upsert';
  /** Required for upsert; the target's primary key or a unique key on exactly these columns. */
  keyColumns: string[];
  signal?: AbortSignal;
}

export interface TableInfo {
  schema: string;
  name: string;
  /**
   * 'partition' tables hold rows that their parent also returns: copy the parent (or the
   * partitions), never both.
   */
  kind: 'table' | 'partitioned-table' | 'partition';
  partitionOf?: TableRef;
}

export interface TableDescription {
  columns: ColumnSpec[];
  primaryKey: string[];
}

export interface BoundedQueryOptions {
  /** At most this many rows are returned; at most one more is ever read. */
  maxRows: number;
  /** Aborting cancels the statement on the server. */
  signal?: AbortSignal;
}

export interface BoundedQueryResult {
  /** type: the database's own name for the column's type (`numeric(30,10)`, `bigint unsigned`). */
  columns: { name: string; type: string }[];
  /** Canonical values, the same as readRows gives for the same data. */
  rows: unknown[][];
  rowCount: number;
  /** True when the statement had more rows than maxRows; the rest were never read. */
  truncated: boolean;
}

/** A catalog statement inside inspect: rows as objects, with the driver's own parsing of catalog types. */
export type CatalogQuery = <R = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<R[]>;

export interface DataConnection {
  readonly dialect: Dialect;
  /** Base tables of a schema (default: the current one), partitioned parents and partitions marked. */
  listTables(schema?: string): Promise<TableInfo[]>;
  describeTable(table: TableRef): Promise<TableDescription | undefined>;
  /** Columns of a read-only query's result (types from the driver's field metadata). */
  describeQuery(sql: string, params?: unknown[]): Promise<ColumnSpec[]>;
  /**
   * Streams canonical rows in batches, inside a READ ONLY transaction (snapshot). Keyset pagination so a caller can resume.
   * The next batch is read while the caller holds the last one, and no further: a caller need not read ahead itself.
   */
  readRows(source: ReadSource, options: ReadOptions): AsyncIterable<unknown[][]>;
  /**
   * The same rows as readRows, as the buffer's chunk lines (byte for byte JSON.stringify of readRows's
   * rows), where the connection can make them without JavaScript values (PostgreSQL: from a COPY's
   * text); undefined when it cannot for this source (then readRows).
   */
  readLines?(source: ReadSource, options: ReadOptions): AsyncIterable<LineBatch> | undefined;
  tableExists(table: TableRef): Promise<boolean>;
  /** DDL through the type mapping: columns, NOT NULL and the primary key; no defaults, indexes or foreign keys. */
  createTable(table: TableRef, columns: ColumnSpec[], primaryKey: string[]): Promise<void>;
  /**
   * One transaction per call. Values are canonical; they are encoded for the target table's own
   * column types (described once per table and cached), `columns` names them in row order.
   */
  writeRows(
    table: TableRef,
    columns: ColumnSpec[],
    rows: unknown[][],
    options: WriteOptions,
  ): Promise<{ written: number }>;
  /**
   * Inserts rows given as a chunk's NDJSON lines (`rowCount` non-empty lines, the buffer's chunk
   * format) into a table this load created (nothing to conflict with), without making them values
   * first, where the connection has such a path (MySQL/MariaDB: `LOAD DATA` transcoded from the
   * bytes). Resolves undefined, having written nothing, when these lines must go by `writeRows`: the
   * caller then parses them and writes the rows, which are checked and encoded as always. `declared`
   * are the manifest's columns the values must match (the same check as the row path's).
   */
  insertLines?(
    table: TableRef,
    columns: ColumnSpec[],
    declared: ColumnSpec[] | undefined,
    lines: Buffer,
    rowCount: number,
    options: { signal?: AbortSignal },
  ): Promise<{ written: number } | undefined>;
  /** Deletes rows whose key is greater than `after` (keyset order); `after` empty deletes every row. */
  deleteAfter(table: TableRef, keyColumns: string[], after: unknown[]): Promise<number>;
  /**
   * Deletes the rows with exactly these keys (canonical values, one array per row, in keyColumns
   * order), in one transaction; returns how many were deleted. Deleting a missing key is not an
   * error, so a retried delete gives the same table.
   */
  deleteKeys(table: TableRef, keyColumns: string[], keys: unknown[][]): Promise<number>;
  countRows(table: TableRef): Promise<number>;
  /**
   * One read-only statement from a caller who checked it (the agent's SQL guard): a READ ONLY
   * transaction, the statement timeout, one statement per round trip, at most maxRows + 1 rows read.
   */
  query(sql: string, params: unknown[], options: BoundedQueryOptions): Promise<BoundedQueryResult>;
  /**
   * Runs catalog statements (schema discovery, privilege checks) on one connection in one READ ONLY
   * transaction under the statement timeout; aborting cancels the running statement.
   */
  inspect<T>(fn: (query: CatalogQuery) => Promise<T>, options?: { signal?: AbortSignal }): Promise<T>;
  /**
   * LISTENs on a channel on a connection of its own (PostgreSQL only; absent elsewhere): a NOTIFY
   * there wakes `wait`. Notifications that arrive before `wait` is called are kept, so a caller
   * that listens first and reads after misses none.
   */
  listen?(channel: string): Promise<NotificationListener>;
  close(): Promise<void>;
}

export interface NotificationListener {
  /** Resolves 'notify' at the first notification since the last wait (or one already pending), else 'timeout' after `ms`. */
  wait(ms: number, signal?: AbortSignal): Promise<'notify' | 'timeout'>;
  close(): Promise<void>;
}
