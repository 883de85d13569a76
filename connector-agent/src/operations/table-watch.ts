import { AgentErrorType, TableWatchInput, type TableWatchOutputT } from '@vansales/protocol';
import { watchTable, type ObjectSink } from '@vansales/dataflow';
import type { BufferClient } from '../buffer/buffer-client';
import { OperationError, type OperationHandler } from './operation';
import { openConfigured, parseOrRefuse, policyOf, toOperationError, type DataDeps } from './data-support';

/**
 * The site-event trigger's read: waits for rows past a position in a table of this site (a
 * PostgreSQL NOTIFY wakes it early) and extracts the next bounded batch into the buffer, through
 * the same read path, site policy and buffer grant as data.extract.
 */
export function createTableWatch(deps: DataDeps, buffer: BufferClient): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(TableWatchInput, raw, 'table.watch');
    const grant = input.buffer;
    if (!grant || grant.scope !== 'write' || grant.objectId !== input.objectId)
      throw new OperationError(
        AgentErrorType.badInput,
        'table.watch needs a write grant for its object from the gateway',
        false,
      );
    const policy = policyOf(deps);
    const conn = await openConfigured(deps, input.database);
    const sink: ObjectSink = {
      put: (index, bytes, rows) => buffer.putChunk(grant, index, bytes, rows, ctx.signal),
      commit: (manifest) => buffer.commit(grant, manifest, ctx.signal),
    };
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
          policy,
          signal: ctx.signal,
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
        ...(result.last && result.rowCount > 0 ? { last: result.last } : {}),
        woke: result.woke,
      } satisfies TableWatchOutputT;
    } catch (err) {
      throw toOperationError(err);
    } finally {
      await conn.close().catch(() => undefined);
    }
  };
}
