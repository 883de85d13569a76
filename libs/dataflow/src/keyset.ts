import { DataflowError, DataflowErrorCode } from './errors';
import type { ColumnSpec } from './types/canonical-type';
import { type Dialect } from '@vansales/protocol';
import type { ReadSource } from './types/data-connection';

/**
 * "Rows after this key" for composite keys. PostgreSQL compares rows natively and uses the
 * index for it; MySQL/MariaDB only range-scan the spelled-out form (a > x OR (a = x AND b > y)).
 */
export function keysetAfter(dialect: Dialect, columns: string[], values: string[]): string {
  if (columns.length === 1) return `${columns[0]} > ${values[0]}`;
  if (dialect === 'postgres') return `(${columns.join(', ')}) > (${values.join(', ')})`;
  const parts: string[] = [];
  for (let i = 0; i < columns.length; i++) {
    const eq = columns.slice(0, i).map((c, j) => `${c} = ${values[j]}`);
    parts.push(eq.length ? `(${eq.join(' AND ')} AND ${columns[i]} > ${values[i]})` : `${columns[i]} > ${values[i]}`);
  }
  return `(${parts.join(' OR ')})`;
}

/** ` LIMIT n` for a bounded read; a limit that is not a positive safe integer is refused, never written into SQL. */
export function limitClause(limit: number | undefined): string {
  if (limit === undefined) return '';
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new DataflowError(DataflowErrorCode.BAD_REQUEST, `a read limit must be a positive integer, not ${limit}`);
  return ` LIMIT ${limit}`;
}

export interface ResolvedTableSource {
  /** Columns returned, in order. */
  columns: ColumnSpec[];
  /** Order columns (the incremental cursor first, then the key). */
  order: ColumnSpec[];
  after?: unknown[];
  incremental?: { column: ColumnSpec; after?: unknown; upTo?: unknown };
}

/** Checks a table source against the table's columns; every name must exist. */
export function resolveTableSource(
  source: Extract<ReadSource, { kind: 'table' }>,
  all: ColumnSpec[],
  label: string,
): ResolvedTableSource {
  const byName = new Map(all.map((c) => [c.name, c]));
  const find = (name: string, what: string) => {
    const c = byName.get(name);
    if (!c)
      throw new DataflowError(DataflowErrorCode.NOT_FOUND, `${what} ${name} is not a column of ${label}`, {
        table: label,
        column: name,
      });
    return c;
  };
  const columns = source.columns ? source.columns.map((n) => find(n, 'column')) : all;
  let order = source.orderBy.map((n) => find(n, 'order column'));
  let incremental: ResolvedTableSource['incremental'];
  if (source.incremental) {
    const column = find(source.incremental.column, 'incremental column');
    incremental = {
      column,
      ...(source.incremental.after !== undefined ? { after: source.incremental.after } : {}),
      ...(source.incremental.upTo !== undefined ? { upTo: source.incremental.upTo } : {}),
    };
    order = [column, ...order.filter((c) => c.name !== column.name)];
  }
  if (source.after !== undefined) {
    if (source.after.length !== order.length) {
      throw new DataflowError(
        DataflowErrorCode.BAD_REQUEST,
        `keyset 'after' has ${source.after.length} values but the order has ${order.length} columns (${order.map((c) => c.name).join(', ')})`,
        { table: label },
      );
    }
    if (source.after.some((v) => v === null || v === undefined))
      throw new DataflowError(DataflowErrorCode.BAD_REQUEST, `keyset 'after' cannot contain NULL`, { table: label });
  }
  return {
    columns,
    order,
    ...(source.after !== undefined ? { after: source.after } : {}),
    ...(incremental ? { incremental } : {}),
  };
}

/** Upserts need key columns, all of them among the written columns. */
export function checkWriteKeys(names: string[], keys: string[], label: string): void {
  if (keys.length === 0)
    throw new DataflowError(DataflowErrorCode.BAD_REQUEST, `upsert into ${label} needs key columns`, { table: label });
  for (const k of keys) {
    if (!names.includes(k))
      throw new DataflowError(
        DataflowErrorCode.BAD_REQUEST,
        `key column ${k} is not among the written columns of ${label}`,
        { table: label, column: k },
      );
  }
}
