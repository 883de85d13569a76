import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ScrubbingSpanExporter } from './scrubbing-exporter';
import type { TracingSettings } from './tracing-config';

/** A process's tracing, when on: what the Temporal interceptors and the HTTP hooks are given. */
export interface Tracing {
  tracer: Tracer;
  /** The processor workflow spans go through too (they are made in the workflow sandbox, exported here). */
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Where spans go (for the process's startup line). */
  endpoint: string;
  /** Sends what is still batched, then stops; safe to call twice. */
  shutdown(): Promise<void>;
}

/**
 * The SDK's side of startTracing, in a module of its own so that a process without tracing never
 * loads it (about 30 MB of resident memory and a second of start on this machine's 2 cores, measured
 * requiring the packages from node_modules).
 */
export function createTracing(
  process: { serviceName: string; serviceVersion: string },
  settings: TracingSettings,
): Tracing {
  const resource = new Resource({ 'service.name': process.serviceName, 'service.version': process.serviceVersion })
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) override the defaults above.
    .merge(envDetectorSync.detect());
  // Batched: a span never waits on the receiver, and a receiver that is down costs dropped spans only.
  // Scrubbed on the way out: only ids, names and outcomes leave the process (scrubbing-exporter.ts).
  const spanProcessor = new BatchSpanProcessor(
    new ScrubbingSpanExporter(new OTLPTraceExporter({ url: settings.endpoint })),
  );
  // The sampler comes from OTEL_TRACES_SAMPLER / _ARG (parent-based always-on when unset).
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  let stopped: Promise<void> | undefined;
  return {
    tracer: trace.getTracer('vansales-connect', process.serviceVersion),
    spanProcessor,
    resource,
    endpoint: settings.endpoint,
    shutdown: () => (stopped ??= provider.shutdown()),
  };
}
