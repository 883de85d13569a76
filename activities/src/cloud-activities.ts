import type { PingOutput } from './agent-activities';

/** Activities that run on cloud workers (task queue `cloud`). Workflows import this type only. */
export interface CloudActivities {
  /** Does nothing: the cloud-side twin of agentPing, for health checks and as the benchmark's peer. */
  cloudPing(): Promise<PingOutput>;
}

/** Cloud activities over their dependencies (none yet: buffer, registry and connectors join later). */
export function createCloudActivities(): CloudActivities {
  return {
    async cloudPing() {
      return { from: 'cloud' };
    },
  };
}
