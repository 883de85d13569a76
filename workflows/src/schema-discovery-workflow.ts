import { proxyActivities } from '@temporalio/workflow';
import type { AgentActivities, SchemaRecorded } from '@vansales/activities';
import { schemaDiscoveryOptions } from './activity-options';

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
  const { schemaDiscover } = proxyActivities<AgentActivities>(schemaDiscoveryOptions(input.connectorId));
  return schemaDiscover({ database: input.database, schemas: input.schemas });
}
