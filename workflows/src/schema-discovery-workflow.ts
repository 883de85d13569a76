import { proxyActivities } from '@temporalio/workflow';
import type { AgentActivities } from '@vansales/activities';
import type { SchemaSnapshot } from '@vansales/protocol/schema-snapshot';
import { connectorTaskQueue } from '@vansales/protocol/task-queues';
import { NON_RETRYABLE_AGENT_ERRORS } from '@vansales/protocol/agent-errors';

export interface SchemaDiscoveryInput {
  tenantId: string;
  connectorId: string;
  database: string;
  schemas?: string[];
}

/**
 * Reads one site database's structure through its agent. The caller (the gateway, which owns the
 * schema registry) records the snapshot as a new version when it changed.
 */
export async function schemaDiscoveryWorkflow(input: SchemaDiscoveryInput): Promise<SchemaSnapshot> {
  const { schemaDiscover } = proxyActivities<AgentActivities>({
    taskQueue: connectorTaskQueue(input.connectorId),
    scheduleToStartTimeout: '10 minutes',
    startToCloseTimeout: '10 minutes',
    retry: { initialInterval: '1 second', maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_AGENT_ERRORS] },
  });
  return schemaDiscover({ database: input.database, schemas: input.schemas });
}
