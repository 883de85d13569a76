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

  app.post(
    '/v1/tenants/:tenantId/connectors/:connectorId/rebind',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'rebindKeys',
        tags: ['keys'],
        description:
          "Moves the connector's keys to another machine: they forget the enrolled key pair and take the given public key (from `mini-connector init` on the new machine), or without one may enrol again for the enrolment window. The connected agent is dropped; the act is audited.",
        params: ConnectorParams,
        body: z
          .object({
            publicKey: z
              .string()
              .regex(/^[A-Za-z0-9_-]{40,128}$/, 'an Ed25519 public key, SPKI DER in base64url')
              .optional(),
          })
          .default({}),
        response: {
          200: z.object({
            rebound: z.number(),
            disconnected: z.boolean(),
            publicKey: z.string().optional(),
            enrolUntil: z.string().optional(),
          }),
          ...errorResponses(404),
        },
      },
    },
    async (req) => app.keys.rebind(req.params.tenantId, req.params.connectorId, req.body ?? {}),
  );
};

export default fp(keyRoutes, {
  name: 'key-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'key-service'],
});
