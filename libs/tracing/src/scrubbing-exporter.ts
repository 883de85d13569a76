import type { Attributes } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * The span attributes that may leave a process: ids, names and outcomes, nothing a user typed or a
 * system answered. Temporal's workflow interceptor copies the whole workflowInfo onto its spans (memo,
 * search attributes, lastResult, lastFailure: run data); its activity interceptor records exception
 * messages and stacks (a database's message may quote a value). An allowlist, so that a library upgrade
 * that records more records nothing more here.
 */
const ALLOWED_ATTRIBUTES = new Set([
  // The gateway's request spans (src/http/request-tracing.ts).
  'http.request.method',
  'http.route',
  'http.response.status_code',
  // Temporal's interceptors.
  'temporalWorkflowId',
  'temporalActivityId',
  'temporalUpdateId',
  'run_id',
  'workflowId',
  'runId',
  'workflowType',
  'taskQueue',
  'namespace',
  'attempt',
  // Exception events keep their type only.
  'exception.type',
]);
/** Our own attributes (`vsc.operation`, `vsc.outcome`…) are chosen where they are set. */
const OWN_PREFIX = 'vsc.';
/** A status message that is one identifier (`SqlRefused`) is an error type; a sentence may quote a value. */
const ERROR_TYPE = /^[A-Za-z][A-Za-z0-9_.-]{0,127}$/;

function allowed(attributes: Attributes): Attributes {
  return Object.fromEntries(
    Object.entries(attributes).filter(([key]) => ALLOWED_ATTRIBUTES.has(key) || key.startsWith(OWN_PREFIX)),
  );
}

/** A copy of the span with only what ALLOWED_ATTRIBUTES lets through (attributes, events, status). */
export function scrubSpan(span: ReadableSpan): ReadableSpan {
  const { message, ...status } = span.status;
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
    startTime: span.startTime,
    endTime: span.endTime,
    status: message !== undefined && ERROR_TYPE.test(message) ? { ...status, message } : status,
    attributes: allowed(span.attributes),
    links: span.links.map((link) => ({ context: link.context })),
    events: span.events.map((event) => ({
      name: event.name,
      time: event.time,
      ...(event.attributes ? { attributes: allowed(event.attributes) } : {}),
    })),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationLibrary: span.instrumentationLibrary,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/** Wraps the OTLP exporter: every span of the process, workflow spans included, is scrubbed on its way out. */
export class ScrubbingSpanExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans.map(scrubSpan), resultCallback);
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
