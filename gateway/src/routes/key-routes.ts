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

  app.get(
    '/v1/tenants/:tenantId/connectors/:connectorId/keys',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listKeys',
        tags: ['keys'],
        description:
          "The connector's API keys, oldest first: id (the key's non-secret lookup part, the 12 characters after `vmc_<tenant>_`), when issued, last used and revoked, and the fingerprint of the key pair of the machine it is bound to. Never the key.",
        params: ConnectorParams,
        response: {
          200: z.array(
            z.object({
              id: z.string(),
              createdAt: z.date(),
              lastUsedAt: z.date().nullable().describe('when the key last opened an agent session'),
              revokedAt: z.date().nullable(),
              machineFingerprint: z
                .string()
                .nullable()
                .describe("fingerprint of the enrolled machine's public key; null before it enrolled"),
              enrolledAt: z.date().nullable(),
              enrolUntil: z.date().nullable().describe('until when a key without a machine may still enrol one'),
            }),
          ),
          ...errorResponses(404),
        },
      },
    },
    async (req) => app.keys.list(req.params.tenantId, req.params.connectorId),
  );

  app.post(
    '/v1/tenants/:tenantId/connectors/:connectorId/keys/:keyId/revoke',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'revokeKey',
        tags: ['keys'],
        description:
          'Revokes one key of the connector: the agent using it is disconnected at once and refused afterwards; agents on its other keys keep working. 404 when the connector has no live key by that id.',
        params: ConnectorParams.extend({
          keyId: z.string().regex(/^[0-9A-Za-z]{12}$/, 'a key id: the 12 characters after vmc_<tenant>_'),
        }),
        response: { 200: z.object({ revoked: z.string(), disconnected: z.boolean() }), ...errorResponses(404) },
      },
    },
    async (req) => app.keys.revokeOne(req.params.tenantId, req.params.connectorId, req.params.keyId),
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
