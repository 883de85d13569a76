export { startTracing, type Tracing } from './start-tracing';
export { tracingSettings, TracingConfigError, type TracingSettings } from './tracing-config';
export { currentTraceContext, contextFromTrace, type TraceContextFields } from './trace-context';
export { scrubSpan, ScrubbingSpanExporter } from './scrubbing-exporter';
