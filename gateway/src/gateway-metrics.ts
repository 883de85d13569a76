import type { FastifyInstance } from 'fastify';
import { AgentCapability, AgentErrorType, BUFFER_ROUTES_PREFIX, type auditEntryFor } from '@vansales/protocol';
import {
  boundedLabel,
  bufferBytesCounter,
  Counter,
  createMetricsRegistry,
  Gauge,
  Histogram,
  taskMetrics,
  type Registry,
} from '@vansales/metrics';

const OPERATIONS = new Set<string>(AgentCapability.options);
const OUTCOMES = new Set<string>(['ok', ...Object.values(AgentErrorType)]);
const REFUSALS: Record<string, string> = {
  [AgentErrorType.policyRefused]: 'policy',
  [AgentErrorType.sqlRefused]: 'sql',
};
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']);

/** The gateway's metrics (gateway/README.md "Metrics"). No tenant, connector or path value in a label. */
export interface GatewayMetrics {
  registry: Registry;
  /** An agent task ended (the gateway's audit entry of it). */
  task(entry: ReturnType<typeof auditEntryFor>): void;
  /** An agent session came online on this node. */
  sessionOpened(): void;
  /** Counts requests by route pattern and status class, and buffer chunk bytes. */
  instrument(app: FastifyInstance): void;
}

const chunkRoute = `${BUFFER_ROUTES_PREFIX}/:objectId/chunks/:index`;

export function createGatewayMetrics(version: string, sessionsNow: () => number): GatewayMetrics {
  const registry = createMetricsRegistry('gateway', version);
  const tasks = taskMetrics(registry, 'gateway', 'Agent tasks this node forwarded');
  new Gauge({
    name: 'vsc_gateway_agent_sessions',
    help: 'Agent sessions this node holds now.',
    registers: [registry],
    collect() {
      this.set(sessionsNow());
    },
  });
  const opened = new Counter({
    name: 'vsc_gateway_agent_sessions_opened_total',
    help: 'Agent sessions that came online on this node.',
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'vsc_gateway_policy_refusals_total',
    help: "Agent tasks refused by a site's rules, by kind (policy file or read-only SQL guard).",
    labelNames: ['kind'],
    registers: [registry],
  });
  const bytes = bufferBytesCounter(registry, 'gateway');
  const requests = new Histogram({
    name: 'vsc_gateway_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern (never the path with its ids) and status class.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 10, 30],
    registers: [registry],
  });
  return {
    registry,
    task(entry) {
      const outcome = entry.errorType ?? 'ok';
      tasks.observe(
        { operation: boundedLabel(entry.operation, OPERATIONS), outcome: boundedLabel(outcome, OUTCOMES) },
        entry.durationMs / 1000,
      );
      const refusal = REFUSALS[outcome];
      if (refusal) refusals.inc({ kind: refusal });
    },
    sessionOpened: () => opened.inc(),
    instrument(app) {
      app.addHook('onResponse', async (req, reply) => {
        // The registered pattern (`/v1/tenants/:tenantId/...`), bounded by the route table; unmatched paths are one value.
        const route = req.routeOptions.url ?? 'unmatched';
        const status = `${Math.floor(reply.statusCode / 100)}xx`;
        requests.observe(
          { method: METHODS.has(req.method) ? req.method : 'other', route, status },
          reply.elapsedTime / 1000,
        );
        if (route === chunkRoute && reply.statusCode < 300) {
          if (req.method === 'PUT') bytes.inc({ direction: 'in' }, Number(req.headers['content-length'] ?? 0));
          else if (req.method === 'GET')
            bytes.inc({ direction: 'out' }, Number(reply.getHeader('content-length') ?? 0));
        }
      });
    },
  };
}
