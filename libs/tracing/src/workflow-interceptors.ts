/**
 * Workflow interceptors (runs in the workflow sandbox, bundled by cloud-worker's bundleWorkflows):
 * Temporal's OpenTelemetry interceptors, for the workflows whose starter traced them only. The bundle
 * always carries them (it is built before a worker knows whether it traces), and run for every
 * workflow they cost about 1 ms of each workflow task (bench/README.md, activity-overhead); a
 * workflow started without trace context (tracing off at the gateway, a schedule) runs as if they
 * were not there. The choice is made from the workflow's start headers, so a replay makes the same.
 */
import { TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type {
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptors,
  WorkflowInternalsInterceptor,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

type Call = (input: unknown, next: (input: unknown) => unknown) => unknown;

/** Each method calls the traced interceptor's when there is one, else goes straight on. */
function passThrough<T extends object>(traced: () => T | undefined, methods: (keyof T & string)[]): T {
  const calls: Record<string, Call> = {};
  for (const method of methods)
    calls[method] = (input, next) => {
      const target = traced();
      return target ? (target[method] as unknown as Call).call(target, input, next) : next(input);
    };
  return calls as unknown as T;
}

export const interceptors = (): WorkflowInterceptors => {
  let traced:
    | {
        inbound: OpenTelemetryInboundInterceptor;
        outbound: OpenTelemetryOutboundInterceptor;
        internals: OpenTelemetryInternalsInterceptor;
      }
    | undefined;
  const inbound = passThrough<WorkflowInboundCallsInterceptor>(
    () => traced?.inbound,
    ['handleSignal', 'handleUpdate', 'validateUpdate', 'handleQuery'],
  );
  inbound.execute = (input, next) => {
    if (input.headers[TRACE_HEADER])
      traced = {
        inbound: new OpenTelemetryInboundInterceptor(),
        outbound: new OpenTelemetryOutboundInterceptor(),
        internals: new OpenTelemetryInternalsInterceptor(),
      };
    return traced ? traced.inbound.execute(input, next) : next(input);
  };
  return {
    inbound: [inbound],
    outbound: [
      passThrough<WorkflowOutboundCallsInterceptor>(
        () => traced?.outbound,
        [
          'scheduleActivity',
          'scheduleLocalActivity',
          'startNexusOperation',
          'startChildWorkflowExecution',
          'continueAsNew',
          'signalWorkflow',
          'getLogAttributes',
          'getMetricTags',
        ],
      ),
    ],
    internals: [passThrough<WorkflowInternalsInterceptor>(() => traced?.internals, ['dispose'])],
  };
};
