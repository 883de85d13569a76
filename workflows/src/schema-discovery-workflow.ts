import { proxyActivities } from '@temporalio/workflow';
import type { AgentActivities, SchemaRecorded } from '@vansales/activities';
import { connectorTaskQueue } from '@vansales/protocol/task-queues';
import { NON_RETRYABLE_AGENT_ERRORS } from '@vansales/protocol/agent-errors';

export interface SchemaDiscoveryInput {
  tenantId: string;
  connectorId: string;
  database: string;
  schemas?: string[];
}

/**
 * Reads one site database's structure through its agent; the gateway records it in the schema
 * registry (a new version only when it changed) and the workflow gets the reference.
 */
export async function schemaDiscoveryWorkflow(input: SchemaDiscoveryInput): Promise<SchemaRecorded> {
  const { schemaDiscover } = proxyActivities<AgentActivities>({
    taskQueue: connectorTaskQueue(input.connectorId),
    scheduleToStartTimeout: '10 minutes',
    startToCloseTimeout: '10 minutes',
    retry: { initialInterval: '1 second', maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_AGENT_ERRORS] },
  });
  return schemaDiscover({ database: input.database, schemas: input.schemas });
}
