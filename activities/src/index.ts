export { type AgentActivities, AGENT_ACTIVITY_OPERATIONS } from './agent-activities';
export { createCloudWorker, createCloudActivityWorker } from './cloud-worker/cloud-worker';
export { CloudWorkerConfig, loadCloudWorkerConfig } from './cloud-worker/config';
export { bundleWorkflows, workflowsPath } from './cloud-worker/workflow-bundle';
export { type CloudActivities, createCloudActivities } from './cloud-activities';
export { type PingOutput, type SchemaRecorded } from './agent-activities';
