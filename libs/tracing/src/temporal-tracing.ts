import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { Tracing } from './start-tracing';

/**
 * The workflow side of Temporal's OpenTelemetry interceptors, for the workflow bundle, behind our
 * module that runs them only for workflows started with trace context (workflow-interceptors.ts).
 * Always bundled: a prebuilt bundle cannot gain it at start. Resolved through the package's exports,
 * so that a built process (dist/) finds the source the bundler compiles.
 */
export function workflowTracingModules(): string[] {
  return [require.resolve('@vansales/tracing/workflow-interceptors')];
}

/** Client interceptors: starting a workflow makes a span and carries its context in the workflow's headers. */
export function tracingClientInterceptors(tracing: Tracing | undefined): WorkflowClientInterceptor[] {
  return tracing ? [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })] : [];
}

/** Activity interceptors: each activity runs inside a span, child of the workflow's scheduling span. */
export function tracingActivityInterceptors(tracing: Tracing | undefined): ActivityInterceptorsFactory[] {
  if (!tracing) return [];
  return [
    (ctx) => ({
      inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer: tracing.tracer }),
      outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
    }),
  ];
}

/**
 * The sink the bundled workflow interceptors export their spans through (workflow code cannot do
 * I/O): into this process's span processor, or nowhere when tracing is off (an unregistered sink
 * would log an error for every workflow task).
 */
export function workflowTracingSinks(tracing: Tracing | undefined): InjectedSinks<Record<string, never>> {
  const exporter = tracing
    ? makeWorkflowExporter(tracing.spanProcessor, tracing.resource)
    : { export: { fn: () => undefined, callDuringReplay: false } };
  return { exporter } as unknown as InjectedSinks<Record<string, never>>;
}
