import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ConnectorParams, errorResponses } from './schemas';

const keyRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v1/tenants/:tenantId/connectors/:connectorId/keys',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'issueKey',
        tags: ['keys'],
        description: 'Issues another API key for the connector (for a new machine); shown once.',
        params: ConnectorParams,
        response: { 201: z.object({ apiKey: z.string() }), ...errorResponses(404) },
      },
    },
    async (req, reply) =>
      reply.code(201).send({ apiKey: await app.keys.issue(req.params.tenantId, req.params.connectorId) }),
  );

  app.post(
    '/v1/tenants/:tenantId/connectors/:connectorId/revoke',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'revokeKeys',
        tags: ['keys'],
        description: 'Revokes every key of the connector; its agent is disconnected at once.',
        params: ConnectorParams,
        response: { 200: z.object({ revoked: z.number(), disconnected: z.boolean() }), ...errorResponses(404) },
      },
    },
    async (req) => app.keys.revoke(req.params.tenantId, req.params.connectorId),
  );
};

export default fp(keyRoutes, {
  name: 'key-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'key-service'],
});
