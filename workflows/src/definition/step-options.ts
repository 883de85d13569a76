import type { ActivityOptions } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { ErrorPolicy } from '@vansales/definitions';
import { connectorTaskQueue } from '@vansales/protocol/task-queues';
import { dataOptions } from '../activity-options';

/** Cloud-side bookkeeping activities of the interpreter (conditions, merges, splits, definitions). */
export function interpreterOptions(taskQueue: string): ActivityOptions {
  return {
    taskQueue,
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '5 minutes',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10 },
  };
}

/**
 * A step's activity options: the kind's defaults (activity-options.ts) with the step's error policy
 * over them. The step's timeout is its whole budget, retries included (schedule to close); its
 * non-retryable types add to the kind's, which stay (a policy refusal never becomes retryable).
 */
export function withPolicy(base: ActivityOptions, policy: ErrorPolicy | undefined): ActivityOptions {
  if (!policy) return base;
  const retry = policy.retry
    ? {
        ...base.retry,
        maximumAttempts: policy.retry.maximumAttempts ?? 5,
        // The model's durations (`30s`, `5m`) are Temporal's ms-format strings.
        initialInterval: (policy.retry.initialInterval ?? '1s') as Duration,
        backoffCoefficient: policy.retry.backoffCoefficient ?? 2,
        maximumInterval: (policy.retry.maximumInterval ?? '5m') as Duration,
        nonRetryableErrorTypes: [
          ...(base.retry?.nonRetryableErrorTypes ?? []),
          ...(policy.retry.nonRetryableErrorTypes ?? []),
        ],
      }
    : base.retry;
  return { ...base, retry, ...(policy.timeout ? { scheduleToCloseTimeout: policy.timeout as Duration } : {}) };
}

export function siteDataOptions(connectorId: string, policy: ErrorPolicy | undefined): ActivityOptions {
  return withPolicy(dataOptions(connectorTaskQueue(connectorId)), policy);
}

export function cloudDataOptions(cloudQueue: string, policy: ErrorPolicy | undefined): ActivityOptions {
  return withPolicy(dataOptions(cloudQueue), policy);
}
