import { tableLabel, tableLabelOf, type Dialect, type TableRef } from '@vansales/protocol';
import { DataflowError, DataflowErrorCode } from '../errors';
import { quoteIdent } from '../identifiers';
import type { ColumnSpec } from '../types/canonical-type';
import type { DataConnection } from '../types/data-connection';
import type { DataPolicy } from '../pipeline/data-policy';
import { resolveReadable, ruleRefusal } from '../pipeline/read-policy';

/** One side of a sync as its database reads it. */
export interface SyncTableRequest {
  /** The configured name of the database (policy rules and messages name it). */
  database: string;
  table: TableRef;
  keyColumns: string[];
  /** Compared and copied columns (keys added when missing); default: every column. */
  columns?: string[];
  policy: DataPolicy;
  signal?: AbortSignal;
}

export interface SyncReadPlan {
  /** The table as the server resolves it. */
  table: TableRef & { schema: string };
  /** Keys first (in keyColumns order), then the other compared columns. */
  columns: ColumnSpec[];
  keyColumns: string[];
}

/**
 * A key range of a sync: rows whose first key column is in (after, upTo]. Bounds are integers as
 * decimal text (a bigint key does not fit a JS number); `after` null = from the first row.
 */
export interface KeyRange {
  after: string | null;
  upTo: string;
}

/**
 * What a sync reads of one table, checked against the site's policy on the final read plan: every
 * column it compares or copies, keys included, leaves the site as a checksum or a row, so a column
 * the policy drops, masks or hashes refuses the sync (a masked copy would overwrite the other side's
 * real value; a checksum over a protected column would let its values be guessed).
 */
export async function planSyncRead(conn: DataConnection, request: SyncTableRequest): Promise<SyncReadPlan> {
  const { database, policy } = request;
  const resolved = await resolveReadable(conn, policy, database, request.table, request.signal);
  const table = resolved.table;
  const described = await conn.describeTable(table);
  if (!described)
    throw new DataflowError(
      DataflowErrorCode.NOT_FOUND,
      `table ${tableLabelOf(database, request.table)} does not exist`,
      {
        table: tableLabel(request.table),
      },
    );
  const find = (name: string) => {
    const column = described.columns.find((c) => c.name === name);
    if (!column)
      throw new DataflowError(
        DataflowErrorCode.BAD_REQUEST,
        `table ${tableLabelOf(database, table)} has no column ${name}`,
        { table: tableLabel(table), column: name },
      );
    return column;
  };
  const wanted = request.columns ?? described.columns.map((c) => c.name);
  const names = [...request.keyColumns, ...wanted.filter((n) => !request.keyColumns.includes(n))];
  const columns = names.map(find);
  for (const column of columns) {
    const rule = policy.columnRule(database, table, column.name);
    if (rule)
      throw ruleRefusal(
        policy,
        rule,
        table,
        'and a sync compares and copies it (its values would leave the site as checksums and rows)',
        "leave it out of the sync step's columns (a key column cannot be left out: sync another table)",
      );
    renderColumn(column, conn.dialect, tableLabelOf(database, table));
  }
  const first = columns[0]!;
  if (first.type.kind !== 'integer')
    throw new DataflowError(
      DataflowErrorCode.BAD_REQUEST,
      `the first key column ${first.name} of ${tableLabelOf(database, table)} is ${first.nativeType}: a sync splits key ranges on an integer first key column; put an integer key column first`,
      { table: tableLabel(table), column: first.name },
    );
  return { table, columns, keyColumns: request.keyColumns };
}

/**
 * SQL text of a column's value rendered identically by MySQL/MariaDB and PostgreSQL (the checksum
 * of equal rows must be equal on both). Kinds whose text differs between the two (floats, JSON,
 * binary...) are refused with the column named, so an author can leave them out of `columns`.
 */
export function renderColumn(column: ColumnSpec, dialect: Dialect, where: string): string {
  const c = quoteIdent(column.name, dialect);
  const my = dialect === 'mysql';
  const t = column.type;
  switch (t.kind) {
    case 'integer':
    case 'decimal':
    case 'year':
      return my ? `CAST(${c} AS CHAR)` : `${c}::text`;
    case 'text':
    case 'enum':
    case 'uuid':
      return my ? `CONVERT(${c} USING utf8mb4)` : `${c}::text`;
    case 'boolean':
      return my ? `IF(${c}, '1', '0')` : `CASE WHEN ${c} THEN '1' ELSE '0' END`;
    case 'date':
      return my ? `DATE_FORMAT(${c}, '%Y-%m-%d')` : `to_char(${c}, 'YYYY-MM-DD')`;
    case 'timestamp':
      // MySQL sessions of dataflow run at time_zone '+00:00', so a TIMESTAMP reads as UTC there too.
      return my
        ? `DATE_FORMAT(${c}, '%Y-%m-%d %H:%i:%s.%f')`
        : `to_char(${t.withTimeZone ? `${c} AT TIME ZONE 'UTC'` : c}, 'YYYY-MM-DD HH24:MI:SS.US')`;
    default:
      throw new DataflowError(
        DataflowErrorCode.BAD_REQUEST,
        `column ${column.name} of ${where} is ${column.nativeType}, which MySQL and PostgreSQL do not render alike, so its checksums could never agree: leave it out of the sync step's columns`,
        { column: column.name },
      );
  }
}
