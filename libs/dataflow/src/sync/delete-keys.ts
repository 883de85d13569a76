import type { TableRef } from '@vansales/protocol';
import { decodeChunk } from '../chunk-codec';
import { DataflowError, DataflowErrorCode } from '../errors';
import type { DataPolicy } from '../pipeline/data-policy';
import { assertWritable } from '../pipeline/destination';
import { resolveTable } from '../pipeline/resolve-table';
import type { DataConnection } from '../types/data-connection';

export interface DeleteKeysRequest {
  database: string;
  table: TableRef;
  keyColumns: string[];
  policy: DataPolicy;
  signal?: AbortSignal;
}

/**
 * Deletes from a table the keys held in a buffer object (one key per row, keyColumns order), a
 * chunk per transaction. Only a table the policy lets be written (checked on the name the server
 * resolves, as loads are); deleting an absent key is no error, so a retry ends in the same table.
 */
export async function deleteObjectKeys(
  conn: DataConnection,
  request: DeleteKeysRequest,
  object: { chunkCount: number; chunk(index: number): Promise<Buffer> },
  onChunk?: (done: { chunksDone: number; deleted: number }) => void,
): Promise<{ deleted: number; keys: number }> {
  assertWritable(request.policy, request.database, request.table);
  const resolved = await resolveTable(conn, request.table, request.signal);
  assertWritable(request.policy, request.database, resolved.table, resolved.names);
  let deleted = 0;
  let keys = 0;
  for (let i = 0; i < object.chunkCount; i++) {
    request.signal?.throwIfAborted();
    const rows = await decodeChunk(await object.chunk(i));
    for (const row of rows)
      if (row.length !== request.keyColumns.length)
        throw new DataflowError(
          DataflowErrorCode.BAD_REQUEST,
          `a key to delete has ${row.length} values for ${request.keyColumns.length} key columns`,
        );
    deleted += await conn.deleteKeys(resolved.table, request.keyColumns, rows);
    keys += rows.length;
    onChunk?.({ chunksDone: i + 1, deleted });
  }
  return { deleted, keys };
}
