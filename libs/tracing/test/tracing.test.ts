import { context, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  contextFromTrace,
  currentTraceContext,
  ScrubbingSpanExporter,
  TracingConfigError,
  tracingSettings,
} from '@vansales/tracing';

describe('tracingSettings: the standard OTEL_* variables', () => {
  it('is off by default: no endpoint, no tracing', () => {
    expect(tracingSettings({})).toBeUndefined();
    expect(tracingSettings({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' })).toBeUndefined();
  });

  it('is on with an endpoint, posting to its /v1/traces (or the traces endpoint as given)', () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toEqual({
      endpoint: 'http://collector:4318/v1/traces',
    });
    expect(
      tracingSettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/otlp',
      }),
    ).toEqual({ endpoint: 'https://traces.example/otlp' });
  });

  it('stays off when the SDK is disabled or the exporter is none', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(tracingSettings({ ...endpoint, OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(tracingSettings({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
  });

  it('refuses what it cannot do with an error a person can act on', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector' })).toThrow(TracingConfigError);
    expect(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector' })).toThrow(/must be a URL/);
    expect(() => tracingSettings({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/http\/protobuf/);
    expect(() => tracingSettings({ ...endpoint, OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(/use otlp/);
  });
});

describe('trace context in and out of a task frame', () => {
  const spanContext = {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: TraceFlags.SAMPLED,
  };

  it('has nothing to send without a span', () => {
    expect(currentTraceContext(context.active())).toBeUndefined();
  });

  it("writes the span's context as a traceparent, and reads it back as the remote parent", () => {
    const sent = currentTraceContext(trace.setSpanContext(context.active(), spanContext));
    expect(sent).toEqual({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
    expect(trace.getSpanContext(contextFromTrace(sent))).toEqual({ ...spanContext, isRemote: true });
    expect(trace.getSpanContext(contextFromTrace(undefined))).toBeUndefined();
  });
});

describe('ScrubbingSpanExporter: what leaves a process', () => {
  it('keeps ids, names and outcomes; drops run data, exception messages and stacks, sentences in the status', () => {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(new ScrubbingSpanExporter(memory))],
    });
    const tracer = provider.getTracer('test');
    const span = tracer.startSpan('RunWorkflow:agentQueryWorkflow', {
      attributes: { workflowId: 'query-1', 'vsc.operation': 'sql.query', memo: 'secret-memo', lastResult: 'rows' },
    });
    span.recordException(new Error("Duplicate entry 'alice@example.com' for key 'email'"));
    span.setStatus({ code: SpanStatusCode.ERROR, message: "Duplicate entry 'alice@example.com'" });
    span.end();
    const refused = tracer.startSpan('agent sql.query');
    refused.setStatus({ code: SpanStatusCode.ERROR, message: 'SqlRefused' });
    refused.end();

    const [first, second] = memory.getFinishedSpans();
    expect(first!.attributes).toEqual({ workflowId: 'query-1', 'vsc.operation': 'sql.query' });
    expect(first!.events.map((e) => e.attributes)).toEqual([{ 'exception.type': 'Error' }]);
    expect(first!.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(first!.spanContext().traceId).toBe(span.spanContext().traceId);
    expect(JSON.stringify(memory.getFinishedSpans())).not.toMatch(/alice|secret-memo|rows/);
    expect(second!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'SqlRefused' });
  });
});
