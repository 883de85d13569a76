import type { ActivityOptions } from '@temporalio/workflow';
// Subpath imports: the protocol's pure modules, without the Node-only parts of its index.
import { connectorTaskQueue } from '@vansales/protocol/task-queues';
import { NON_RETRYABLE_AGENT_ERRORS } from '@vansales/protocol/agent-errors';

export interface ConnectorPlacement {
  connectorId: string;
  /** How long a task may wait for an offline agent before the workflow gives up. */
  maxOfflineSeconds?: number;
}

/** Activity options per kind, in one place. */
export function agentQueryOptions(placement: ConnectorPlacement): ActivityOptions {
  return {
    taskQueue: connectorTaskQueue(placement.connectorId),
    scheduleToStartTimeout: `${placement.maxOfflineSeconds ?? 3600} seconds`,
    startToCloseTimeout: '10 minutes',
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '30 seconds',
      maximumAttempts: 10,
      nonRetryableErrorTypes: [...NON_RETRYABLE_AGENT_ERRORS],
    },
  };
}

/** Schema discovery: a catalog read that may take minutes on a large database. */
export function schemaDiscoveryOptions(connectorId: string): ActivityOptions {
  return {
    taskQueue: connectorTaskQueue(connectorId),
    scheduleToStartTimeout: '10 minutes',
    startToCloseTimeout: '10 minutes',
    retry: { initialInterval: '1 second', maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_AGENT_ERRORS] },
  };
}

/**
 * The site policy's description: one small read of a file on the site. Validation waits for it, so
 * an offline agent fails it within a minute (the caller says the site is offline) instead of hanging.
 */
export function sitePolicyOptions(connectorId: string): ActivityOptions {
  return {
    taskQueue: connectorTaskQueue(connectorId),
    scheduleToStartTimeout: '1 minute',
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE_AGENT_ERRORS] },
  };
}

/** Ping round trips: short, a few attempts; an agent may wait a while to come online. */
export function pingOptions(
  taskQueue: string,
  scheduleToStartTimeout?: ActivityOptions['scheduleToStartTimeout'],
): ActivityOptions {
  return {
    taskQueue,
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 3 },
    ...(scheduleToStartTimeout ? { scheduleToStartTimeout } : {}),
  };
}

/**
 * Extract, load and transfer: long, resumable, heartbeating per chunk. The heartbeat timeout is
 * how soon a lost worker (a gateway that died with the task) is noticed; minutes by default, as
 * a short one turns every slow chunk into a retry.
 */
export function dataOptions(
  taskQueue: string,
  options: { maxOfflineSeconds?: number; heartbeatTimeoutSeconds?: number } = {},
): ActivityOptions {
  return {
    taskQueue,
    scheduleToStartTimeout: `${options.maxOfflineSeconds ?? 3600} seconds`,
    startToCloseTimeout: '12 hours',
    heartbeatTimeout: `${options.heartbeatTimeoutSeconds ?? 120} seconds`,
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts: 20,
      nonRetryableErrorTypes: [...NON_RETRYABLE_AGENT_ERRORS],
    },
  };
}

/** The buffer purge: idempotent, cheap to repeat. */
export function purgeOptions(taskQueue: string): ActivityOptions {
  return { taskQueue, startToCloseTimeout: '30 minutes', retry: { maximumAttempts: 5 } };
}
