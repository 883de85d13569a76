import { TableWatchInput, type TableWatchOutputT } from '@vansales/protocol';
import { watchTable } from '@vansales/dataflow';
import type { BufferClient } from '../buffer/buffer-client';
import type { OperationHandler } from './operation';
import {
  bufferSink,
  grantOf,
  openConfigured,
  parseOrRefuse,
  policyOf,
  toOperationError,
  type DataDeps,
} from './data-support';

/**
 * The site-event trigger's read: waits for rows past a position in a table of this site (a
 * PostgreSQL NOTIFY wakes it early) and extracts the next bounded batch into the buffer, through
 * the same read path, site policy and buffer grant as data.extract.
 */
export function createTableWatch(deps: DataDeps, buffer: BufferClient): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(TableWatchInput, raw, 'table.watch');
    const grant = grantOf(input, 'write', 'table.watch');
    const policy = policyOf(deps);
    const conn = await openConfigured(deps, input.database);
    const sink = bufferSink(buffer, grant, ctx.signal);
    try {
      const result = await watchTable(
        conn,
        {
          database: input.database,
          table: input.table,
          cursorColumn: input.cursorColumn,
          keyColumns: input.keyColumns,
          ...(input.after ? { after: input.after } : {}),
          batchRows: input.batchRows,
          waitMs: input.waitMs,
          ...(input.notifyChannel ? { notifyChannel: input.notifyChannel } : {}),
          ...(input.anchor ? { anchor: true } : {}),
          policy,
          signal: ctx.signal,
          // A real change of state (nothing new: waiting on the site), so the watch's heartbeat says so.
          onWaiting: () => ctx.progress({ objectId: input.objectId, waiting: true }),
        },
        sink,
        // Progress is the chunks stored so far; a retry starts the batch again (same object id).
        (position) => ctx.progress({ objectId: input.objectId, chunksDone: position.chunksDone }),
      );
      return {
        rowCount: result.rowCount,
        objectId: input.objectId,
        chunkCount: result.chunkCount,
        keyColumns: result.keyColumns,
        ...(result.columns ? { columns: result.columns } : {}),
        ...(result.last && (result.rowCount > 0 || input.anchor) ? { last: result.last } : {}),
        woke: result.woke,
      } satisfies TableWatchOutputT;
    } catch (err) {
      throw toOperationError(err);
    } finally {
      await conn.close().catch(() => undefined);
    }
  };
}
