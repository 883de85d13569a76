import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * One SERVER span per REST request, named by the route template (`POST /v1/tenants/:tenantId/queries`),
 * made the active context for the rest of the request: a workflow the route starts is its child
 * (Temporal's client interceptor reads the active span). A caller's W3C `traceparent` is honoured, so
 * a console or a client can join its own trace.
 *
 * Attributes: method, route template, status. Not the URL's query string, no header, no body: a
 * route's query or body may carry a token or a value, and the route template says which route it was.
 */
export function traceRequests(app: FastifyInstance, tracer: Tracer): void {
  const spans = new WeakMap<FastifyRequest, Span>();
  app.addHook('onRequest', (req, _reply, done) => {
    // An agent's WebSocket upgrade is a session of hours, not a request: no span, and nothing the
    // session does (discovery on connect) is parented to one that would never end.
    if (req.headers.upgrade) return done();
    const route = req.routeOptions.url ?? 'unmatched';
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(
      `${req.method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'http.route': route } },
      parent,
    );
    spans.set(req, span);
    // The rest of the request (hooks, handler, the promises they make) runs in this context.
    context.with(trace.setSpan(parent, span), done);
  });
  app.addHook('onResponse', (req, reply, done) => {
    const span = spans.get(req);
    spans.delete(req);
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
  app.addHook('onRequestAbort', (req, done) => {
    // Ended once: a response that still completes after the abort finds no span.
    const span = spans.get(req);
    spans.delete(req);
    // An error type, not a sentence: the exporter keeps only one-word status messages.
    span?.setStatus({ code: SpanStatusCode.ERROR, message: 'ClientClosedRequest' });
    span?.end();
    done();
  });
}
