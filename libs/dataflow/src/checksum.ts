import { createHash } from 'node:crypto';
import { DataflowError, DataflowErrorCode } from './errors';
import { type ColumnSpec } from './types/canonical-type';
import { tableLabel, type TableRef } from '@vansales/protocol';
import type { DataConnection } from './types/data-connection';
import { comparableValue } from './values/canonical-values';

const BATCH = 5000;

/**
 * Row count and SHA-256 over the rows' comparable values (canonical-values.ts) in key order,
 * text keys compared by code point: the same data gives the same digest in MySQL and in
 * PostgreSQL, whichever way it was copied. Each row hashes as one JSON array plus a newline.
 * Types come from the connection's own description of the table (so a widened column, say
 * int unsigned -> bigint, still hashes alike); `columns` names and orders the columns.
 */
export async function tableChecksum(
  conn: DataConnection,
  table: TableRef,
  columns: ColumnSpec[],
  orderBy: string[],
  signal?: AbortSignal,
): Promise<{ rows: number; sha256: string }> {
  const label = tableLabel(table);
  const described = await conn.describeTable(table);
  if (!described)
    throw new DataflowError(DataflowErrorCode.NOT_FOUND, `table ${label} does not exist`, { table: label });
  const types = columns.map((c) => {
    const own = described.columns.find((d) => d.name === c.name);
    if (!own)
      throw new DataflowError(DataflowErrorCode.NOT_FOUND, `column ${c.name} is not a column of ${label}`, {
        table: label,
        column: c.name,
      });
    return own.type;
  });
  const hash = createHash('sha256');
  let rows = 0;
  const source = { kind: 'table' as const, table, columns: columns.map((c) => c.name), orderBy };
  for await (const batch of conn.readRows(source, {
    batchSize: BATCH,
    binaryOrder: true,
    ...(signal ? { signal } : {}),
  })) {
    for (const row of batch) {
      const normalised = new Array<unknown>(row.length);
      for (let i = 0; i < row.length; i++) normalised[i] = comparableValue(types[i]!, row[i]);
      hash.update(JSON.stringify(normalised));
      hash.update('\n');
    }
    rows += batch.length;
  }
  return { rows, sha256: hash.digest('hex') };
}
