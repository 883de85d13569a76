import { bundleWorkflowCode, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { failureConverterPath } from '@vansales/temporal-config';

/** Where the workflow code is: the source of @vansales/workflows (Temporal's bundler compiles it). */
export function workflowsPath(): string {
  return require.resolve('@vansales/workflows');
}

/** Bundles every published workflow once; the build writes it to a file, tests reuse one per run. */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    failureConverterPath: failureConverterPath(),
    logger: new DefaultLogger('WARN'),
  });
}
