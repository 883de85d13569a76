import { DataLoadInput, AgentErrorType, type DataLoadOutputT } from '@vansales/protocol';
import { loadObject, resumeState, type LoadProgress as PipelineLoadProgress } from '@vansales/dataflow';
import type { BufferClient } from '../buffer/buffer-client';
import type { OperationHandler } from './operation';
import { grantOf, openConfigured, parseOrRefuse, policyOf, toOperationError, type DataDeps } from './data-support';

interface LoadProgress extends PipelineLoadProgress {
  objectId: string;
}

/**
 * The agent's side of dataflow's loadObject: chunks come from the buffer through the gateway with
 * the object-scoped grant, rows go into a database of this site, the site's policy decides which
 * tables may be written.
 */
export function createDataLoad(deps: DataDeps, buffer: BufferClient): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(DataLoadInput, raw, 'data.load');
    const grant = grantOf(input, 'read', 'data.load');
    try {
      const result = await loadObject(
        () => openConfigured(deps, input.database),
        {
          database: input.database,
          table: input.table,
          keyColumns: input.keyColumns,
          createIfMissing: input.createIfMissing,
          policy: policyOf(deps),
          objectId: input.objectId,
          resume: resumeState<LoadProgress>(
            ctx.resumeFrom,
            (r) => r.objectId === input.objectId && typeof r.chunksDone === 'number',
          ),
          signal: ctx.signal,
        },
        {
          manifest: async () => {
            const manifest = await buffer.manifest(grant, ctx.signal);
            return { schema: manifest.schema, chunkCount: manifest.chunks.length, rowCount: manifest.rowCount };
          },
          chunk: (index) => buffer.getChunk(grant, index, ctx.signal),
        },
        (done) => ctx.progress({ objectId: input.objectId, ...done } satisfies LoadProgress),
      );
      return result satisfies DataLoadOutputT;
    } catch (err) {
      throw toOperationError(err, AgentErrorType.writeFailed);
    }
  };
}
