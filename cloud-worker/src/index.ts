export {
  apiOperationsOf,
  createCloudWorker,
  createCloudActivityWorker,
  cloudDepsFromEnv,
  cloudCredentialsOf,
} from './cloud-worker';
export { CloudWorkerConfig, loadCloudWorkerConfig } from './config';
export { bundleWorkflows, workflowsPath } from './workflow-bundle';
