export { createCloudWorker, createCloudActivityWorker, cloudDepsFromEnv } from './cloud-worker';
export { CloudWorkerConfig, loadCloudWorkerConfig } from './config';
export { bundleWorkflows, workflowsPath } from './workflow-bundle';
