import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Connection } from '@temporalio/client';
import type { AgentHub } from '../agent-hub/agent-hub';
import { metricsText, type Registry } from '@vansales/metrics';
import { READINESS_DEPENDENCIES, type ReadinessCheck } from '../readiness';
import { Binary, errorResponses } from './schemas';

const DependencyState = z.object({
  ok: z.boolean(),
  message: z.string().describe('what was found, or why the dependency is not usable'),
});
const Readiness = z.object({
  ready: z.boolean(),
  dependencies: z.object(
    Object.fromEntries(READINESS_DEPENDENCIES.map((d) => [d, DependencyState])) as {
      [K in (typeof READINESS_DEPENDENCIES)[number]]: typeof DependencyState;
    },
  ),
});

/** Health, readiness and the API description: public, for load balancers and client generators. */
const systemRoutes: FastifyPluginAsyncZod<{
  temporalConnection: Connection;
  hub: AgentHub;
  readiness?: ReadinessCheck;
  metrics?: { registry: Registry; forwarded?: () => Promise<string> };
}> = async (app, { temporalConnection, hub, readiness, metrics }) => {
  app.get(
    '/healthz',
    {
      config: { auth: 'public' },
      schema: {
        operationId: 'getHealth',
        tags: ['system'],
        description: 'Whether this gateway reaches Temporal, and how many agents it holds.',
        response: {
          200: z.object({
            status: z.enum(['ok', 'degraded']),
            temporal: z.enum(['ok', 'unreachable']),
            agentsConnected: z.number(),
          }),
        },
      },
    },
    async () => {
      let temporal: 'ok' | 'unreachable' = 'ok';
      try {
        await temporalConnection.workflowService.getSystemInfo({});
      } catch {
        temporal = 'unreachable';
      }
      return {
        status: temporal === 'ok' ? ('ok' as const) : ('degraded' as const),
        temporal,
        agentsConnected: hub.size,
      };
    },
  );

  if (readiness)
    app.get(
      '/readyz',
      {
        config: { auth: 'public' },
        schema: {
          operationId: 'getReadiness',
          tags: ['system'],
          description:
            'Whether this gateway node can serve: Temporal, the metadata store, Redis (the cluster store: without it no new agent session is accepted) and the buffer store, each with ok and a message. 503 when any is not ok. /healthz stays the cheap liveness answer.',
          response: { 200: Readiness, 503: Readiness },
        },
      },
      async (_req, reply) => {
        const dependencies = await readiness();
        const ready = Object.values(dependencies).every((d) => d.ok);
        return reply.code(ready ? 200 : 503).send({ ready, dependencies });
      },
    );

  if (metrics)
    app.get(
      '/metrics',
      {
        // Counts across every tenant: the operator's token (a scraper's bearer token), never a tenant's.
        config: { auth: 'admin' },
        schema: {
          operationId: 'getMetrics',
          tags: ['system'],
          description:
            "Prometheus metrics of this node (text exposition): agent sessions, agent tasks by type and outcome with latency histograms, buffer chunk bytes, policy refusals, HTTP requests by route pattern, Node's process metrics and the Temporal SDK's (temporal_*). Labels carry no tenant, connector or credential. The admin token only.",
          response: {
            200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: Binary } } },
            ...errorResponses(401, 403),
          },
        },
      },
      async (_req, reply) =>
        reply.type(metrics.registry.contentType).send(await metricsText(metrics.registry, metrics.forwarded)),
    );

  app.get(
    '/openapi.json',
    {
      config: { auth: 'public' },
      schema: {
        operationId: 'getOpenApiDocument',
        tags: ['system'],
        description: 'This document (OpenAPI 3).',
        response: { 200: z.looseObject({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) }) },
      },
    },
    async () => app.swagger() as unknown as { openapi: string; paths: Record<string, unknown> },
  );
};

export default fp(systemRoutes, {
  name: 'system-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', '@fastify/swagger'],
});
