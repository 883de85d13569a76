import { tableLabel, tableLabelOf, type TableRef } from '@vansales/protocol';
import { DataflowError, DataflowErrorCode } from '../errors';
import { mapColumns } from '../mapping/map-columns';
import type { ColumnSpec } from '../types/canonical-type';
import type { DataConnection } from '../types/data-connection';
import type { DataPolicy, NameRules } from './data-policy';
import { resolveTable } from './resolve-table';

export interface DestinationRequest {
  /** The configured name of the database (policy rules and messages name it). */
  database: string;
  table: TableRef;
  /** The incoming columns: a buffer object's schema, or the source table's read plan. */
  columns: ColumnSpec[];
  keyColumns: string[];
  createIfMissing: boolean;
  policy: DataPolicy;
  /** What holds the incoming columns, for the message when the destination lacks one ("the buffer object"). */
  origin?: string;
}

export interface Destination {
  /** The destination's own columns, in the order of the incoming values. */
  columns: ColumnSpec[];
  /** True when this call created the table. */
  created: boolean;
}

/**
 * Writes go only to tables the policy lists. Without `names` a pre-check before anything is
 * fetched or opened; prepareDestination checks again on the name the server resolves.
 */
export function assertWritable(policy: DataPolicy, database: string, table: TableRef, names?: NameRules): void {
  if (!policy.canWrite(database, table, names)) {
    throw new DataflowError(
      DataflowErrorCode.POLICY_REFUSED,
      `writing to ${tableLabelOf(database, table)} is refused by ${policy.source}: add {"database": "${database}", "table": "${tableLabel(table)}"} to its writableTables to allow loads into it`,
      { table: tableLabel(table) },
    );
  }
}

/**
 * Creates the destination table through the type mapping when it is missing, or matches the
 * incoming columns to the existing table's (by name; the table may have more).
 */
export async function prepareDestination(conn: DataConnection, request: DestinationRequest): Promise<Destination> {
  const { database, table } = request;
  assertWritable(request.policy, database, table);
  // `customer` is written where the server puts it (search_path, the connection's database, case).
  const resolved = await resolveTable(conn, table);
  assertWritable(request.policy, database, resolved.table, resolved.names);
  const target = tableLabelOf(database, table);
  if (!(await conn.tableExists(table))) {
    if (!request.createIfMissing)
      throw new DataflowError(
        DataflowErrorCode.NOT_FOUND,
        `table ${target} does not exist and createIfMissing is false`,
        { table: tableLabel(table) },
      );
    const columns = mapColumns(request.columns, conn.dialect, target);
    try {
      await conn.createTable(table, columns, request.keyColumns);
      return { columns, created: true };
    } catch (err) {
      // Concurrent loads (a for-each's parts) race to create the same table: the loser uses the
      // winner's table, matched below like any existing one. Any other DDL failure stands.
      if (!(await conn.tableExists(table).catch(() => false))) throw err;
    }
  }
  const existing = await conn.describeTable(table);
  if (!existing)
    throw new DataflowError(DataflowErrorCode.NOT_FOUND, `table ${target} does not exist`, {
      table: tableLabel(table),
    });
  const columns = request.columns.map((c) => {
    const there = existing.columns.find((e) => e.name === c.name);
    if (!there)
      throw new DataflowError(
        DataflowErrorCode.WRITE_FAILED,
        `table ${target} has no column ${c.name}${request.origin ? ` (${request.origin} has it)` : ''}`,
        { table: tableLabel(table), column: c.name },
      );
    return there;
  });
  return { columns, created: false };
}
