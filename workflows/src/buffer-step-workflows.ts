import { ApplicationFailure, proxyActivities, uuid4 } from '@temporalio/workflow';
import type { AgentActivities, CloudActivities } from '@vansales/activities';
import type { DataExtractOutputT, DataLoadOutputT, TableRef } from '@vansales/protocol';
import { connectorTaskQueue } from '@vansales/protocol/task-queues';
import { dataOptions } from './activity-options';
import type { SyncEndpoint } from './data-sync-workflow';

export interface ExtractStepInput {
  tenantId: string;
  source: SyncEndpoint;
  /** A table (resumable, keyset order) or, on a connector, a read-only query. */
  table?: TableRef;
  sql?: string;
  columns?: string[];
  keyColumns?: string[];
  incremental?: { column: string; after?: unknown };
  chunkRows?: number;
  cloudTaskQueue?: string;
  maxOfflineSeconds?: number;
  heartbeatTimeoutSeconds?: number;
}

export interface LoadStepInput {
  tenantId: string;
  destination: SyncEndpoint;
  table: TableRef;
  keyColumns: string[];
  /** A buffer object an extract step returned. */
  objectId: string;
  createIfMissing?: boolean;
  /** Start before the object is committed: the load follows it as its extract writes it. */
  follow?: boolean;
  cloudTaskQueue?: string;
  maxOfflineSeconds?: number;
  heartbeatTimeoutSeconds?: number;
}

/**
 * One extract into the buffer; returns the object's reference (claim-check), which a later load
 * step, another workflow, or a transform takes. The object expires with the buffer's TTL.
 */
export async function extractStepWorkflow(input: ExtractStepInput): Promise<DataExtractOutputT> {
  if (!input.table === !input.sql)
    throw ApplicationFailure.nonRetryable('give exactly one of table and sql', 'BadInput');
  const objectId = uuid4().replace(/-/g, '');
  const options = {
    maxOfflineSeconds: input.maxOfflineSeconds,
    heartbeatTimeoutSeconds: input.heartbeatTimeoutSeconds,
  };
  const common = {
    keyColumns: input.keyColumns,
    incremental: input.incremental,
    chunkRows: input.chunkRows ?? 50_000,
    objectId,
  };
  if (input.source.placement === 'connector') {
    const agent = proxyActivities<AgentActivities>(dataOptions(connectorTaskQueue(input.source.connectorId), options));
    const source = input.table
      ? { table: input.table, ...(input.columns ? { columns: input.columns } : {}) }
      : { sql: input.sql! };
    return agent.dataExtract({ database: input.source.database, source, ...common });
  }
  if (!input.table) throw ApplicationFailure.nonRetryable('cloud extracts read tables; give table', 'BadInput');
  const cloud = proxyActivities<CloudActivities>(dataOptions(input.cloudTaskQueue ?? 'cloud', options));
  return cloud.cloudExtract({
    tenantId: input.tenantId,
    database: input.source.database,
    table: input.table,
    columns: input.columns,
    ...common,
  });
}

/** One load of a buffer object into a table (upsert by key). */
export async function loadStepWorkflow(input: LoadStepInput): Promise<DataLoadOutputT> {
  const options = {
    maxOfflineSeconds: input.maxOfflineSeconds,
    heartbeatTimeoutSeconds: input.heartbeatTimeoutSeconds,
  };
  const common = {
    table: input.table,
    keyColumns: input.keyColumns,
    objectId: input.objectId,
    createIfMissing: input.createIfMissing ?? true,
    // Only when asked, so the activity input of a load recorded before the option is unchanged.
    ...(input.follow ? { follow: true } : {}),
  };
  if (input.destination.placement === 'connector') {
    const agent = proxyActivities<AgentActivities>(
      dataOptions(connectorTaskQueue(input.destination.connectorId), options),
    );
    return agent.dataLoad({ database: input.destination.database, ...common });
  }
  const cloud = proxyActivities<CloudActivities>(dataOptions(input.cloudTaskQueue ?? 'cloud', options));
  return cloud.cloudLoad({ tenantId: input.tenantId, database: input.destination.database, ...common });
}
