import { tableLabel } from '@vansales/protocol';
import { chunkedExtract, type ExtractPosition } from '../pipeline/chunked-extract';
import type { ObjectSink } from '../pipeline/extract';
import type { DataConnection, ReadSource } from '../types/data-connection';
import { planSyncRead, type KeyRange, type SyncTableRequest } from './sync-read-plan';

export interface RangeExtractRequest extends SyncTableRequest {
  /** The key ranges whose rows are wanted (those whose checksums differ). */
  ranges: KeyRange[];
  chunkRows: number;
}

/**
 * Reads the rows of some key ranges of a table into one buffer object (keys first, then the
 * compared columns): only the ranges a sync found different leave the database. Each range is one
 * keyset read on the first key (after, upTo], so it uses the key's index. A retry writes the same
 * object again from its first chunk.
 */
export async function extractRanges(
  conn: DataConnection,
  request: RangeExtractRequest,
  sink: ObjectSink,
  onChunk: (position: ExtractPosition) => void,
): Promise<{ rowCount: number; chunkCount: number; columns: string[] }> {
  const plan = await planSyncRead(conn, request);
  const [first, ...rest] = plan.keyColumns;
  const names = plan.columns.map((c) => c.name);
  await sink.begin?.();
  let position: ExtractPosition = { chunksDone: 0, rowsDone: 0 };
  for (const range of request.ranges) {
    const source: ReadSource = {
      kind: 'table',
      table: plan.table,
      columns: names,
      orderBy: rest,
      incremental: {
        column: first!,
        ...(range.after !== null ? { after: keyValue(range.after) } : {}),
        upTo: keyValue(range.upTo),
      },
    };
    position = await chunkedExtract(
      conn,
      {
        source,
        orderIndexes: [],
        cursorIndex: -1,
        chunkRows: request.chunkRows,
        start: { chunksDone: position.chunksDone, rowsDone: position.rowsDone },
        ...(request.signal ? { signal: request.signal } : {}),
      },
      sink,
      onChunk,
    );
  }
  await sink.commit({
    schema: {
      columns: plan.columns,
      keyColumns: plan.keyColumns,
      dialect: conn.dialect,
      source: tableLabel(plan.table),
    },
    chunkCount: position.chunksDone,
    rowCount: position.rowsDone,
    meta: { sync: true },
  });
  return { rowCount: position.rowsDone, chunkCount: position.chunksDone, columns: names };
}

/** A bound as the reader's canonical integer: a number while exact, else its decimal text. */
function keyValue(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}
