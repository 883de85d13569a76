import { proxyActivities } from '@temporalio/workflow';
import type { AgentActivities } from '@vansales/activities';
import type { DataTransferInputT, DataTransferOutputT } from '@vansales/protocol';
import { connectorTaskQueue } from '@vansales/protocol/task-queues';
import { dataOptions } from './activity-options';

export interface DataTransferWorkflowInput {
  tenantId: string;
  connectorId: string;
  transfer: DataTransferInputT;
  maxOfflineSeconds?: number;
  heartbeatTimeoutSeconds?: number;
}

/** One table from one database of a site into another of the same site; the rows never leave it. */
export async function dataTransferWorkflow(input: DataTransferWorkflowInput): Promise<DataTransferOutputT> {
  const agent = proxyActivities<AgentActivities>(dataOptions(connectorTaskQueue(input.connectorId), input));
  return agent.dataTransfer(input.transfer);
}
