import { DataTransferInput, type DataTransferOutputT } from '@vansales/protocol';
import { resumeState, transfer, type TransferPosition } from '@vansales/dataflow';
import { AgentErrorType } from '@vansales/protocol';
import type { OperationHandler } from './operation';
import { openConfigured, parseOrRefuse, policyOf, toOperationError, type DataDeps } from './data-support';

interface TransferProgress extends TransferPosition {
  /** Identifies the run: a retry of another transfer must not resume from this one's position. */
  runKey: string;
}

/**
 * The agent's side of dataflow's transfer: both databases are this site's, nothing leaves it;
 * the site's policy decides whether the destination may be written.
 */
export function createDataTransfer(deps: DataDeps): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(DataTransferInput, raw, 'data.transfer');
    const runKey = JSON.stringify([input.source, input.destination, input.incremental?.after ?? null]);
    try {
      const result = await transfer(
        (database) => openConfigured(deps, database),
        {
          source: input.source,
          destination: input.destination,
          keyColumns: input.keyColumns,
          incremental: input.incremental,
          mode: input.mode,
          batchRows: input.batchRows,
          createIfMissing: input.createIfMissing,
          policy: policyOf(deps),
          resume: resumeState<TransferProgress>(
            ctx.resumeFrom,
            (r) => r.runKey === runKey && typeof r.rowsDone === 'number',
          ),
          signal: ctx.signal,
        },
        (position) => ctx.progress({ runKey, ...position } satisfies TransferProgress),
      );
      return result satisfies DataTransferOutputT;
    } catch (err) {
      throw toOperationError(err, AgentErrorType.writeFailed);
    }
  };
}
