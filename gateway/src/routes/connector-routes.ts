import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DoctorWarning, PolicyDescribeOutput } from '@vansales/protocol';
import { ChainVerification, Connector, ConnectorParams, errorResponses, TenantParams } from './schemas';

const ConnectorStatus = Connector.extend({
  online: z.boolean(),
  agentVersion: z.string().nullable().describe("the agent's version at its last hello; null before it first connected"),
  agentPlatform: z
    .string()
    .nullable()
    .describe(
      'the platform its agent announced at its last hello: only a single executable, which can update itself, sends one; null for an agent built from the sources (never offered an update) or before it first connected',
    ),
  databases: z.array(z.string()).describe('names of the databases its agent serves, as its last hello listed them'),
  lastSeenAt: z.date().nullable().describe('its last hello or disconnection; null before it first connected'),
});

const connectorRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v1/tenants/:tenantId/connectors',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'createConnector',
        tags: ['connectors'],
        description: 'Creates a connector (one site) and its first API key.',
        params: TenantParams,
        body: z.object({ name: z.string().min(1).max(200) }),
        response: {
          201: Connector.extend({ apiKey: z.string().describe('shown once; store it in the agent vault') }),
          ...errorResponses(404, 409, 429),
        },
      },
    },
    async (req, reply) => {
      await app.quotas?.checkConnectorCreation(req.params.tenantId);
      return reply.code(201).send(await app.connectors.create(req.params.tenantId, req.body.name));
    },
  );

  app.get(
    '/v1/tenants/:tenantId/connectors',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listConnectors',
        tags: ['connectors'],
        description: "The tenant's connectors, and whether each one's agent is connected to this gateway.",
        params: TenantParams,
        response: { 200: z.array(ConnectorStatus), ...errorResponses() },
      },
    },
    async (req) => app.connectors.list(req.params.tenantId),
  );

  app.get(
    '/v1/tenants/:tenantId/connectors/:connectorId/refusals',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listConnectionRefusals',
        tags: ['connectors'],
        description: "Connections refused because the connector's key was used from another machine.",
        params: ConnectorParams,
        response: {
          200: z.array(
            z.object({
              keyId: z.string().describe('lookup id of the key that was used (see GET …/keys)'),
              machineId: z.string(),
              reason: z.string(),
              at: z.date(),
            }),
          ),
          ...errorResponses(404),
        },
      },
    },
    async (req) => app.connectors.refusals(req.params.tenantId, req.params.connectorId),
  );

  app.get(
    '/v1/tenants/:tenantId/connectors/:connectorId/doctor',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'getConnectorDoctor',
        tags: ['connectors'],
        description:
          "The latest `doctor` warnings the connector's agent reported (at each connection and every 15 minutes by default): severity, what is wrong and what to do on the site. Empty with null dates before the agent first reported; kept while it is offline.",
        params: ConnectorParams,
        response: {
          200: z.object({
            checkedAt: z.date().nullable().describe("when the agent ran the checks, by the agent's clock"),
            receivedAt: z.date().nullable().describe('when the gateway received the report'),
            warnings: z.array(DoctorWarning),
          }),
          ...errorResponses(404),
        },
      },
    },
    async (req) => app.connectors.doctor(req.params.tenantId, req.params.connectorId),
  );

  app.get(
    '/v1/tenants/:tenantId/connectors/:connectorId/policy',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'describeSitePolicy',
        tags: ['connectors'],
        description:
          "The site's policy as its agent describes it now (read-only; the site's own policy.json is the only place to change it): writable tables, API names, protected columns. Names only, never a URL or credential. 409 at once when its agent is offline; 422 when it does not answer.",
        params: ConnectorParams,
        response: { 200: PolicyDescribeOutput, ...errorResponses(404, 409, 422) },
      },
    },
    async (req) => {
      await app.connectors.requireOnline(req.params.tenantId, req.params.connectorId);
      return app.sitePolicies.describeSitePolicy(req.params.tenantId, req.params.connectorId);
    },
  );

  app.get(
    '/v1/tenants/:tenantId/connectors/:connectorId/audit/verify',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'verifyAuditChain',
        tags: ['connectors'],
        description: "Checks the gateway's audit chain of the connector; names the first broken link.",
        params: ConnectorParams,
        response: { 200: ChainVerification, ...errorResponses(404) },
      },
    },
    async (req) => app.connectors.verifyAudit(req.params.tenantId, req.params.connectorId),
  );
};

export default fp(connectorRoutes, {
  name: 'connector-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'connector-service', 'site-policy-service'],
});
