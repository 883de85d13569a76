import { bundleWorkflowCode, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { failureConverterPath } from '@vansales/temporal-config';
import { workflowTracingModules } from '@vansales/tracing/temporal';

/** Where the workflow code is: the source of @vansales/workflows (Temporal's bundler compiles it). */
export function workflowsPath(): string {
  return require.resolve('@vansales/workflows');
}

/** Bundles every published workflow once; the build writes it to a file, tests reuse one per run. */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    failureConverterPath: failureConverterPath(),
    // Temporal's OpenTelemetry workflow interceptors, always in: a bundle is built before the
    // worker knows whether it traces (without tracing their spans go to a sink that drops them).
    workflowInterceptorModules: workflowTracingModules(),
    logger: new DefaultLogger('WARN'),
  });
}
