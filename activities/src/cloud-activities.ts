import type { DataBuffer } from '@vansales/buffer';
import { ApplicationFailure } from '@temporalio/common';
import type { PingOutput } from './agent-activities';
import { createCloudDataActivities, type CloudDataActivities } from './cloud/cloud-data-activities';
import type { CloudDatabases } from './cloud/cloud-databases';
import { createTransformActivities, type TransformActivities } from './cloud/transform-activities';

/** Activities that run on cloud workers (task queue `cloud`). Workflows import this type only. */
export interface CloudActivities extends CloudDataActivities, TransformActivities {
  /** Does nothing: the cloud-side twin of agentPing, for health checks and as the benchmark's peer. */
  cloudPing(): Promise<PingOutput>;
}

export interface CloudDeps {
  buffer?: DataBuffer;
  databases?: CloudDatabases;
}

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
    ? createTransformActivities({ buffer: deps.buffer })
    : { transformDataset: missing };
  return {
    ...data,
    ...transforms,
    async cloudPing() {
      return { from: 'cloud' };
    },
  };
}
