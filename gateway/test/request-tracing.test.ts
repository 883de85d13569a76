import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import Fastify from 'fastify';
import { traceRequests } from '../src/http/request-tracing';

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

describe('a span per REST request', () => {
  const memory = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  // As startTracing does: the async-hooks context manager and W3C propagation, globally.
  provider.register();
  afterAll(() => provider.shutdown());

  it("is named by the route template, joins the caller, is the handler's active span and records no query", async () => {
    const app = Fastify();
    traceRequests(app, provider.getTracer('test'));
    app.get('/v1/things/:id', async () => {
      await new Promise((r) => setTimeout(r, 5));
      return { active: trace.getActiveSpan()?.spanContext().spanId };
    });
    const res = await app.inject({
      method: 'GET',
      url: '/v1/things/42?token=secret-token',
      headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
    });
    const upgrade = await app.inject({ method: 'GET', url: '/v1/things/43', headers: { upgrade: 'websocket' } });
    await app.close();

    expect(upgrade.statusCode).toBe(200);
    const spans = memory.getFinishedSpans();
    expect(spans).toHaveLength(1); // none for the upgrade: a WebSocket session is not a request
    const [span] = spans;
    expect(span!.name).toBe('GET /v1/things/:id');
    expect(span!.spanContext().traceId).toBe(CALLER_TRACE);
    expect(span!.parentSpanId).toBe(CALLER_SPAN);
    expect(res.json()).toEqual({ active: span!.spanContext().spanId });
    expect(span!.attributes).toEqual({
      'http.request.method': 'GET',
      'http.route': '/v1/things/:id',
      'http.response.status_code': 200,
    });
    expect(JSON.stringify(span!.attributes)).not.toContain('secret-token');
  });
});
