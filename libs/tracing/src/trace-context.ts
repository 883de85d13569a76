import { context, createTraceState, trace, TraceFlags, type Context } from '@opentelemetry/api';

/** W3C trace context as it rides a task frame (libs/protocol's TraceContext validates it). */
export interface TraceContextFields {
  traceparent: string;
  tracestate?: string;
}

// Written and read here, over the API package only, rather than with the SDK's W3C propagator: a
// process that does not trace (most agents) then never loads the SDK, and OTEL_PROPAGATORS cannot
// change the frame's format. Version 00 of https://www.w3.org/TR/trace-context/.
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The active span's context as traceparent/tracestate, or undefined when there is no valid span. */
export function currentTraceContext(ctx: Context = context.active()): TraceContextFields | undefined {
  const span = trace.getSpanContext(ctx);
  if (!span || !trace.isSpanContextValid(span)) return undefined;
  const flags = (span.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0');
  const traceparent = `00-${span.traceId}-${span.spanId}-${flags}`;
  const tracestate = span.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** A context whose remote parent is the given traceparent/tracestate (the base context when absent or invalid). */
export function contextFromTrace(fields: TraceContextFields | undefined, base: Context = context.active()): Context {
  const match = fields && TRACEPARENT.exec(fields.traceparent);
  if (!match) return base;
  const parent = {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: parseInt(match[3]!, 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(fields.tracestate ? { traceState: createTraceState(fields.tracestate) } : {}),
  };
  return trace.isSpanContextValid(parent) ? trace.setSpanContext(base, parent) : base;
}
