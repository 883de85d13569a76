import type { DataBuffer } from '@vansales/buffer';
import { ApplicationFailure } from '@temporalio/common';
import type { PingOutput } from './agent-activities';
import { createCloudDataActivities, type CloudDataActivities } from './cloud/cloud-data-activities';
import type { CloudDatabases } from './cloud/cloud-databases';
import { createTransformActivities, type TransformActivities } from './cloud/transform-activities';
import { createDefinitionActivities, type DefinitionActivities } from './cloud/definition-activities';
import type { DefinitionStore, SyncStateStore } from '@vansales/definitions';
import type { CloudCredentials } from './cloud/cloud-credentials';
import type { EgressSettings } from '@vansales/dataflow';
import type { TransformLimitsInput } from '@vansales/transforms';
import { createHttpActivities, type ApiOperationDeps, type HttpActivities } from './cloud/http-activities';
import { createSyncActivities, type SyncActivities } from './cloud/sync-activities';

/** Activities that run on cloud workers (task queue `cloud`). Workflows import this type only. */
export interface CloudActivities
  extends CloudDataActivities, DefinitionActivities, HttpActivities, TransformActivities, SyncActivities {
  /** Does nothing: the cloud-side twin of agentPing, for health checks and as the benchmark's peer. */
  cloudPing(): Promise<PingOutput>;
}

export interface CloudDeps {
  buffer?: DataBuffer;
  databases?: CloudDatabases;
  /** Definitions and their versions (the metadata store), read by the interpreter's call steps. */
  definitions?: DefinitionStore;
  /** What sync steps remember between runs (the metadata store's sync_state). */
  syncState?: SyncStateStore;
  /** Named API credentials of HTTP steps (VSC_CLOUD_CREDENTIALS_FILE). */
  credentials?: CloudCredentials;
  /** Where HTTP steps may go (VSC_CLOUD_HTTP_*); default: public addresses only. */
  egress?: EgressSettings;
  /** Limits of transform steps (the worker thread's heap, spilling); default: the transforms' defaults. */
  transformLimits?: TransformLimitsInput;
  /** HTTP steps that call a registered API operation: the SDK factory's registry and the tenants' credential store. */
  apiOperations?: ApiOperationDeps;
}

/** A buffer that answers every call with what is missing (a cloud worker without VSC_BUFFER_*). */
function missingBuffer(): DataBuffer {
  return new Proxy({} as DataBuffer, {
    get: () => async () => {
      throw ApplicationFailure.nonRetryable(
        'this cloud worker has no buffer configured (VSC_BUFFER_*)',
        'BufferUnavailable',
      );
    },
  });
}

export const DEFAULT_EGRESS: EgressSettings = {
  allowPrivate: false,
  timeoutMs: 30_000,
  maxResponseBytes: 32 * 1024 * 1024,
};

/** Cloud activities over their dependencies; without a buffer the data activities say what is missing. */
export function createCloudActivities(deps: CloudDeps = {}): CloudActivities {
  const missing = async (): Promise<never> => {
    throw ApplicationFailure.nonRetryable(
      'this cloud worker has no buffer configured (VSC_BUFFER_*)',
      'BufferUnavailable',
    );
  };
  const data: CloudDataActivities = deps.buffer
    ? createCloudDataActivities({ buffer: deps.buffer, databases: deps.databases ?? { lookup: () => undefined } })
    : { cloudExtract: missing, cloudLoad: missing, purgeExpiredBuffer: missing };
  // Definition step activities (issue 10): each part adds its own spread here.
  const transforms: TransformActivities = deps.buffer
    ? createTransformActivities({ buffer: deps.buffer, limits: deps.transformLimits ?? {} })
    : { transformDataset: missing };
  const http: HttpActivities = deps.buffer
    ? createHttpActivities({
        buffer: deps.buffer,
        credentials: deps.credentials ?? { headers: () => undefined },
        egress: deps.egress ?? DEFAULT_EGRESS,
        ...(deps.apiOperations ? { apiOperations: deps.apiOperations } : {}),
      })
    : { httpRead: missing, httpWrite: missing };
  const noStore = async (): Promise<never> => {
    throw ApplicationFailure.nonRetryable('this cloud worker has no definition store configured', 'StoreUnavailable');
  };
  // The interpreter's step activities: each part of the interpreter adds its own beside these.
  const definitions: DefinitionActivities = deps.buffer
    ? createDefinitionActivities({
        buffer: deps.buffer,
        store: deps.definitions ?? { published: noStore, version: noStore },
      })
    : {
        mergeDatasets: missing,
        splitDataset: missing,
        evaluateCondition: missing,
        evaluateExpression: missing,
        loadDefinitionVersion: missing,
      };
  const noSyncState = async (): Promise<never> => {
    throw ApplicationFailure.nonRetryable(
      "this cloud worker keeps no sync state: sync plans run on the gateways' control queue, so start the run through the gateway (its runs carry controlTaskQueue)",
      'StoreUnavailable',
    );
  };
  const sync: SyncActivities = createSyncActivities({
    buffer: deps.buffer ?? missingBuffer(),
    databases: deps.databases ?? { lookup: () => undefined },
    state: deps.syncState ?? { count: noSyncState, get: noSyncState, apply: noSyncState },
  });
  return {
    ...data,
    ...sync,
    ...definitions,
    ...http,
    ...transforms,
    async cloudPing() {
      return { from: 'cloud' };
    },
  };
}
