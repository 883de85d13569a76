import { context, trace, type Context, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/** W3C trace context as it rides a task frame (libs/protocol's TraceContext validates it). */
export interface TraceContextFields {
  traceparent: string;
  tracestate?: string;
}

// Our own W3C propagator, not the global one: a process that traces nothing still reads and passes on
// nothing by accident, and OTEL_PROPAGATORS cannot turn the frame's format into another.
const w3c = new W3CTraceContextPropagator();
const setter: TextMapSetter<Record<string, string>> = { set: (carrier, key, value) => void (carrier[key] = value) };
const getter: TextMapGetter<TraceContextFields> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => (key === 'traceparent' || key === 'tracestate' ? carrier[key] : undefined),
};

/** The active span's context as traceparent/tracestate, or undefined when no span is recording. */
export function currentTraceContext(ctx: Context = context.active()): TraceContextFields | undefined {
  if (!trace.getSpanContext(ctx)) return undefined;
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, setter);
  if (!carrier.traceparent) return undefined;
  return carrier.tracestate
    ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate }
    : { traceparent: carrier.traceparent };
}

/** A context whose remote parent is the given traceparent/tracestate (root context when absent). */
export function contextFromTrace(fields: TraceContextFields | undefined, base: Context = context.active()): Context {
  return fields ? w3c.extract(base, fields, getter) : base;
}
