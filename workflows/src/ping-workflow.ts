import { proxyActivities } from '@temporalio/workflow';
import type { AgentActivities, CloudActivities } from '@vansales/activities';
import { connectorTaskQueue } from '@vansales/protocol/task-queues';
import { pingOptions } from './activity-options';

export type PingPlacement = { kind: 'connector'; connectorId: string } | { kind: 'cloud'; taskQueue: string };

export interface PingInput {
  placement: PingPlacement;
  /** How many round trips in all. */
  count: number;
  /** How many at once (1 = one after another). */
  concurrency: number;
}

/**
 * Round trips to a site's agent (or to a cloud worker) that do nothing: a health check that proves
 * the whole path works, and the probe of the activity-overhead benchmark.
 */
export async function pingWorkflow(input: PingInput): Promise<{ answered: number; from: string[] }> {
  const ping =
    input.placement.kind === 'connector'
      ? proxyActivities<AgentActivities>(pingOptions(connectorTaskQueue(input.placement.connectorId), '5 minutes'))
          .agentPing
      : proxyActivities<CloudActivities>(pingOptions(input.placement.taskQueue)).cloudPing;
  const from = new Set<string>();
  let answered = 0;
  let next = 0;
  const lane = async () => {
    while (next < input.count) {
      next++;
      from.add((await ping()).from);
      answered++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(input.concurrency, input.count)) }, lane));
  return { answered, from: [...from] };
}
