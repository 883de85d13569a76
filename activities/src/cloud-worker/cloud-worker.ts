import { NativeConnection, Worker } from '@temporalio/worker';
import { WORKFLOW_TASK_QUEUE } from '@vansales/protocol';
import type { CloudWorkerConfig } from './config';
import { workflowsPath } from './workflow-bundle';

/** The cloud worker: workflow tasks on the `workflows` queue (cloud activities join in later issues). */
export async function createCloudWorker(config: CloudWorkerConfig, connection: NativeConnection, bundle?: { code: string }): Promise<Worker> {
  const workflowSource = bundle
    ? { workflowBundle: bundle }
    : config.VSC_WORKFLOW_BUNDLE
      ? { workflowBundle: { codePath: config.VSC_WORKFLOW_BUNDLE } }
      : { workflowsPath: workflowsPath() };
  return Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: WORKFLOW_TASK_QUEUE,
    ...workflowSource,
    maxConcurrentWorkflowTaskExecutions: config.VSC_MAX_WORKFLOW_TASKS,
  });
}
