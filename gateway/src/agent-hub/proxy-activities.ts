import { Context } from '@temporalio/activity';
import { AGENT_ACTIVITY_OPERATIONS, type AgentActivities } from '@vansales/activities';
import type { AgentConnection } from './agent-connection';

/**
 * The activities of one connector's task queue: each forwards its task over the agent's
 * WebSocket, turns agent progress into activity heartbeats (so cancellation can reach us) and
 * returns the agent's answer.
 */
export function createProxyActivities(connection: AgentConnection): AgentActivities {
  const activities: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [name, operation] of Object.entries(AGENT_ACTIVITY_OPERATIONS)) {
    activities[name] = async (input: unknown) => {
      const ctx = Context.current();
      const { info } = ctx;
      return connection.runTask(
        operation,
        input,
        {
          workflowId: info.workflowExecution?.workflowId ?? '',
          runId: info.workflowExecution?.runId ?? '',
          activityId: info.activityId,
          attempt: info.attempt,
          resumeFrom: info.heartbeatDetails,
        },
        { signal: ctx.cancellationSignal, onProgress: (details) => ctx.heartbeat(details) },
      );
    };
  }
  return activities as unknown as AgentActivities;
}
