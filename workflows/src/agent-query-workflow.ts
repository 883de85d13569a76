import { ActivityFailure, ApplicationFailure, TimeoutFailure, proxyActivities } from '@temporalio/workflow';
import type { AgentActivities } from '@vansales/activities';
import { agentQueryOptions, type ConnectorPlacement } from './activity-options';

export interface AgentQueryInput extends ConnectorPlacement {
  tenantId: string;
  /** Name of a database configured on that agent. */
  database: string;
  sql: string;
  params?: (string | number | boolean | null)[];
  maxRows?: number;
}

export interface AgentQueryOutput {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  rowCount: number;
  truncated: boolean;
}

export const WorkflowErrorType = {
  connectorOffline: 'ConnectorOffline',
} as const;

/** Runs one read-only query on a site through its connector and returns the rows. */
export async function agentQueryWorkflow(input: AgentQueryInput): Promise<AgentQueryOutput> {
  const agent = proxyActivities<AgentActivities>(agentQueryOptions(input));
  try {
    return await agent.sqlQuery({
      database: input.database,
      sql: input.sql,
      params: input.params ?? [],
      maxRows: input.maxRows ?? 1000,
    });
  } catch (err) {
    if (
      err instanceof ActivityFailure &&
      err.cause instanceof TimeoutFailure &&
      err.cause.timeoutType === 'SCHEDULE_TO_START'
    ) {
      throw ApplicationFailure.nonRetryable(
        `connector ${input.connectorId} stayed offline longer than ${input.maxOfflineSeconds ?? 3600} s; start the mini connector on that site and run the workflow again`,
        WorkflowErrorType.connectorOffline,
      );
    }
    throw err;
  }
}
