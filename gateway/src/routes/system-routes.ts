import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Connection } from '@temporalio/client';
import type { AgentHub } from '../agent-hub/agent-hub';

/** Health and the API description: public, for load balancers and client generators. */
const systemRoutes: FastifyPluginAsyncZod<{ temporalConnection: Connection; hub: AgentHub }> = async (
  app,
  { temporalConnection, hub },
) => {
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
