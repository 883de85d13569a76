import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TENANT_ID_PATTERN } from '@vansales/protocol';
import type { ControlPlane } from '../control-plane';

const TenantParams = z.object({ tenantId: z.string().regex(TENANT_ID_PATTERN, 'tenant ids are lowercase slugs of 2-40 characters') });
const ConnectorParams = TenantParams.extend({ connectorId: z.string().uuid() });
const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** Control-plane REST API (operators, console, CLI), behind the admin bearer token. */
export const adminRoutes: FastifyPluginAsync<{ controlPlane: ControlPlane }> = async (app, { controlPlane }) => {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/v1/tenants',
    {
      schema: {
        body: z.object({ id: TenantParams.shape.tenantId, name: z.string().min(1).max(200) }),
        response: { 201: z.object({ id: z.string(), name: z.string() }), 400: ErrorBody },
      },
    },
    async (req, reply) => reply.code(201).send(await controlPlane.createTenant(req.body)),
  );

  r.post(
    '/v1/tenants/:tenantId/connectors',
    {
      schema: {
        params: TenantParams,
        body: z.object({ name: z.string().min(1).max(200) }),
        response: {
          201: z.object({ id: z.string(), tenantId: z.string(), name: z.string(), apiKey: z.string().describe('shown once; store it in the agent vault') }),
          404: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (req, reply) => reply.code(201).send(await controlPlane.createConnector(req.params.tenantId, req.body.name)),
  );

  r.get(
    '/v1/tenants/:tenantId/connectors',
    {
      schema: {
        params: TenantParams,
        response: { 200: z.array(z.object({ id: z.string(), tenantId: z.string(), name: z.string(), online: z.boolean() })) },
      },
    },
    async (req) => controlPlane.listConnectors(req.params.tenantId),
  );

  r.post(
    '/v1/tenants/:tenantId/connectors/:connectorId/keys',
    { schema: { params: ConnectorParams, response: { 201: z.object({ apiKey: z.string() }), 404: ErrorBody } } },
    async (req, reply) => reply.code(201).send({ apiKey: await controlPlane.issueKey(req.params.tenantId, req.params.connectorId) }),
  );

  r.post(
    '/v1/tenants/:tenantId/connectors/:connectorId/revoke',
    { schema: { params: ConnectorParams, response: { 200: z.object({ revoked: z.number(), disconnected: z.boolean() }), 404: ErrorBody } } },
    async (req) => controlPlane.revokeKeys(req.params.tenantId, req.params.connectorId),
  );

  const SchemaParams = ConnectorParams.extend({ database: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'a database name configured on the agent') });

  r.post('/v1/tenants/:tenantId/connectors/:connectorId/schemas/:database/discover', { schema: { params: SchemaParams } }, async (req) =>
    controlPlane.discoverSchema(req.params.tenantId, req.params.connectorId, req.params.database),
  );

  r.get('/v1/tenants/:tenantId/connectors/:connectorId/schemas/:database/versions', { schema: { params: SchemaParams } }, async (req) =>
    controlPlane.schemaVersions(req.params.tenantId, req.params.connectorId, req.params.database),
  );

  r.get(
    '/v1/tenants/:tenantId/connectors/:connectorId/schemas/:database',
    { schema: { params: SchemaParams, querystring: z.object({ version: z.coerce.number().int().positive().optional() }) } },
    async (req) => controlPlane.schemaSnapshot(req.params.tenantId, req.params.connectorId, req.params.database, req.query.version),
  );

  r.get(
    '/v1/tenants/:tenantId/connectors/:connectorId/schemas/:database/diff',
    { schema: { params: SchemaParams, querystring: z.object({ from: z.coerce.number().int().positive(), to: z.coerce.number().int().positive() }) } },
    async (req) => controlPlane.schemaDiff(req.params.tenantId, req.params.connectorId, req.params.database, req.query.from, req.query.to),
  );

  r.get(
    '/v1/tenants/:tenantId/connectors/:connectorId/refusals',
    { schema: { params: ConnectorParams } },
    async (req) => controlPlane.listConnectionRefusals(req.params.tenantId, req.params.connectorId),
  );

  r.get(
    '/v1/tenants/:tenantId/connectors/:connectorId/audit/verify',
    { schema: { params: ConnectorParams } },
    async (req) => controlPlane.verifyAudit(req.params.tenantId, req.params.connectorId),
  );

  r.post(
    '/v1/tenants/:tenantId/queries',
    {
      schema: {
        params: TenantParams,
        body: z.object({
          connectorId: z.string().uuid(),
          database: z.string().min(1).max(128),
          sql: z.string().min(1).max(100_000),
          params: z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])).max(1000).optional(),
          maxRows: z.number().int().min(1).max(100_000).optional(),
          maxOfflineSeconds: z.number().int().min(1).max(30 * 24 * 3600).optional(),
          wait: z.boolean().default(true),
        }),
      },
    },
    async (req, reply) => {
      const { wait, ...input } = req.body;
      const out = await controlPlane.startQuery(req.params.tenantId, input, wait);
      return reply.code(wait ? 200 : 202).send(out);
    },
  );

  const Table = z.object({ schema: z.string().min(1).max(128).optional(), name: z.string().min(1).max(128) });
  const Endpoint = z.discriminatedUnion('placement', [
    z.object({ placement: z.literal('connector'), connectorId: z.string().uuid(), database: z.string().min(1).max(128) }),
    z.object({ placement: z.literal('cloud'), database: z.string().min(1).max(128) }),
  ]);
  const SyncParams = TenantParams.extend({ workflowId: z.string().regex(/^sync-[0-9a-f-]{36}$/, 'sync ids look like sync-<uuid>') });

  r.post(
    '/v1/tenants/:tenantId/syncs',
    {
      schema: {
        description: 'Starts a data sync: a full load, then incremental runs past each table\'s cursor column.',
        params: TenantParams,
        body: z.object({
          source: Endpoint,
          destination: Endpoint,
          tables: z
            .array(
              z.object({
                source: Table,
                destination: Table.optional(),
                columns: z.array(z.string().min(1).max(128)).min(1).max(4096).optional(),
                keyColumns: z.array(z.string().min(1).max(128)).min(1).max(32).optional(),
                cursorColumn: z.string().min(1).max(128).optional(),
              }),
            )
            .min(1)
            .max(500),
          intervalSeconds: z.number().int().min(1).max(30 * 24 * 3600).optional(),
          maxRuns: z.number().int().min(0).max(1_000_000).optional(),
          chunkRows: z.number().int().min(1).max(1_000_000).optional(),
          maxOfflineSeconds: z.number().int().min(1).max(30 * 24 * 3600).optional(),
        }),
      },
    },
    async (req, reply) => reply.code(202).send(await controlPlane.startSync(req.params.tenantId, req.body)),
  );

  r.get('/v1/tenants/:tenantId/syncs/:workflowId', { schema: { description: 'A sync\'s status, cursors and row counts.', params: SyncParams } }, async (req) =>
    controlPlane.syncStatus(req.params.tenantId, req.params.workflowId),
  );

  r.post('/v1/tenants/:tenantId/syncs/:workflowId/run-now', { schema: { description: 'Starts the next run now.', params: SyncParams } }, async (req) =>
    controlPlane.runSyncNow(req.params.tenantId, req.params.workflowId),
  );
};
