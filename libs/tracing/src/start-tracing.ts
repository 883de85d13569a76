import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ScrubbingSpanExporter } from './scrubbing-exporter';
import { tracingSettings } from './tracing-config';

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
 * Starts tracing for this process when the OTEL_* environment asks for it, else returns undefined
 * and nothing is loaded or dialled. `serviceName` is the default; OTEL_SERVICE_NAME wins. Registers
 * the provider globally (with the async-hooks context manager and W3C propagation): the Temporal
 * interceptors find the active span through the global API.
 */
export function startTracing(
  process: { serviceName: string; serviceVersion: string },
  env: NodeJS.ProcessEnv = globalThis.process.env,
): Tracing | undefined {
  const settings = tracingSettings(env);
  if (!settings) return undefined;
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
