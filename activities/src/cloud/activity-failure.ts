import { ApplicationFailure } from '@temporalio/common';
import { AgentErrorType } from '@vansales/protocol';
import { BufferError } from '@vansales/buffer';
import { DataflowError, failureTypeOf } from '@vansales/dataflow';

/**
 * A cloud activity's error as a Temporal failure, with the same failure types as the agent's (one
 * table, dataflow's), so workflows and retry policies treat both alike.
 */
export function activityFailure(err: unknown): Error {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof BufferError)
    return ApplicationFailure.create({ type: AgentErrorType.bufferRefused, message: err.message, nonRetryable: true });
  if (err instanceof DataflowError)
    return ApplicationFailure.create({
      type: failureTypeOf(err.code),
      message: err.message,
      nonRetryable: !err.retryable,
    });
  // Anything else (network, a restarting database) is worth Temporal's retry.
  return err instanceof Error ? err : new Error(String(err));
}
