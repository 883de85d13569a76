export { type AgentActivities, AGENT_ACTIVITY_OPERATIONS } from './agent-activities';
export { createCloudWorker, createCloudActivityWorker, cloudDepsFromEnv } from './cloud-worker/cloud-worker';
export { CloudWorkerConfig, loadCloudWorkerConfig } from './cloud-worker/config';
export { bundleWorkflows, workflowsPath } from './cloud-worker/workflow-bundle';
export { type CloudActivities, type CloudDeps, createCloudActivities } from './cloud-activities';
export { type CloudDataActivities, type CloudExtractInput, type CloudLoadInput, type PurgeOutput } from './cloud/cloud-data-activities';
export { loadCloudDatabases, cloudDatabasesFrom, type CloudDatabases } from './cloud/cloud-databases';
export { type PingOutput, type SchemaRecorded } from './agent-activities';
