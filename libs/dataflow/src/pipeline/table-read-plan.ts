import { DataflowError, DataflowErrorCode } from '../errors';
import type { ColumnSpec } from '../types/canonical-type';
import { type TableRef } from '@vansales/protocol';
import type { ReadSource } from '../types/data-connection';

export interface TableReadRequest {
  table: TableRef;
  /** The table's columns as described. */
  described: { columns: ColumnSpec[]; primaryKey: string[] };
  /** Columns to deliver (default: all). */
  columns?: string[];
  keyColumns?: string[];
  incremental?: { column: string; after?: unknown };
  /** Keyset position to resume after. */
  after?: unknown[];
}

export interface TableReadPlan {
  /** Delivered columns, in row order (keys and cursor added when not asked for). */
  columns: ColumnSpec[];
  keyColumns: string[];
  source: Extract<ReadSource, { kind: 'table' }>;
  orderIndexes: number[];
  cursorIndex: number;
}

/**
 * Decides how a table is read so that the read can resume: ordered by its key (by the cursor
 * first when incremental), keys and cursor always read. Errors name the table and the column.
 */
export function planTableRead(request: TableReadRequest): TableReadPlan {
  const { table, described, incremental } = request;
  const where = table.schema ? `${table.schema}.${table.name}` : table.name;
  const keyColumns = request.keyColumns ?? described.primaryKey;
  if (keyColumns.length === 0)
    throw new DataflowError(
      DataflowErrorCode.BAD_REQUEST,
      `table ${where} has no primary key: name keyColumns so rows are read in a resumable order and upserted`,
      { table: where },
    );
  const find = (name: string) => {
    const column = described.columns.find((c) => c.name === name);
    if (!column)
      throw new DataflowError(DataflowErrorCode.BAD_REQUEST, `table ${where} has no column ${name}`, {
        table: where,
        column: name,
      });
    return column;
  };
  const columns = (request.columns ?? described.columns.map((c) => c.name)).map(find);
  for (const name of [...keyColumns, ...(incremental ? [incremental.column] : [])]) {
    if (!columns.some((c) => c.name === name)) columns.push(find(name));
  }
  // With a cursor the reader orders by [cursor, ...orderBy]; rows (and `after`) follow that order.
  const orderBy = incremental ? keyColumns.filter((k) => k !== incremental.column) : keyColumns;
  const rowOrder = incremental ? [incremental.column, ...orderBy] : orderBy;
  const source: TableReadPlan['source'] = {
    kind: 'table',
    table,
    columns: columns.map((c) => c.name),
    orderBy,
    ...(request.after ? { after: request.after } : {}),
    ...(incremental
      ? {
          incremental: {
            column: incremental.column,
            ...(incremental.after !== undefined && incremental.after !== null ? { after: incremental.after } : {}),
          },
        }
      : {}),
  };
  return {
    columns,
    keyColumns,
    source,
    orderIndexes: rowOrder.map((n) => columns.findIndex((c) => c.name === n)),
    cursorIndex: incremental ? columns.findIndex((c) => c.name === incremental.column) : -1,
  };
}
