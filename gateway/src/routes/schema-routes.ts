import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SchemaSnapshot } from '@vansales/protocol';
import { callerGone, ConnectorParams, errorResponses, SchemaVersionNumber } from './schemas';

const SchemaParams = ConnectorParams.extend({
  database: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'a database name configured on the agent'),
});
const SnapshotVersion = z.object({ version: z.number(), hash: z.string(), createdAt: z.date() });
/** One difference between two versions (see SchemaChange in @vansales/protocol): its kind, where, and from/to or the definition. */
const SchemaChange = z
  .object({
    change: z.string(),
    schema: z.string().optional(),
    table: z.string().optional(),
    column: z.string().optional(),
  })
  .loose();

const schemaRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v1/tenants/:tenantId/connectors/:connectorId/schemas/:database/discover',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'discoverSchema',
        tags: ['schemas'],
        description: 'Discovers the database through its agent and records a new version when the structure changed.',
        params: SchemaParams,
        response: {
          200: z.object({
            workflowId: z.string(),
            database: z.string(),
            version: z.number(),
            changed: z.boolean(),
            tables: z.number(),
          }),
          ...errorResponses(404, 422),
        },
      },
    },
    async (req, reply) =>
      app.schemas.discover(req.params.tenantId, req.params.connectorId, req.params.database, callerGone(reply)),
  );

  app.get(
    '/v1/tenants/:tenantId/connectors/:connectorId/schemas/:database/versions',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listSchemaVersions',
        tags: ['schemas'],
        params: SchemaParams,
        response: { 200: z.array(SnapshotVersion), ...errorResponses(404) },
      },
    },
    async (req) => app.schemas.versions(req.params.tenantId, req.params.connectorId, req.params.database),
  );

  app.get(
    '/v1/tenants/:tenantId/connectors/:connectorId/schemas/:database',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'getSchemaSnapshot',
        tags: ['schemas'],
        description: 'A recorded snapshot of the database structure: the latest, or the version asked for.',
        params: SchemaParams,
        querystring: z.object({ version: SchemaVersionNumber.optional() }),
        response: { 200: SnapshotVersion.extend({ snapshot: SchemaSnapshot }), ...errorResponses(404) },
      },
    },
    async (req) =>
      app.schemas.snapshot(req.params.tenantId, req.params.connectorId, req.params.database, req.query.version),
  );

  app.get(
    '/v1/tenants/:tenantId/connectors/:connectorId/schemas/:database/diff',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'diffSchemaVersions',
        tags: ['schemas'],
        params: SchemaParams,
        querystring: z.object({ from: SchemaVersionNumber, to: SchemaVersionNumber }),
        response: { 200: z.array(SchemaChange), ...errorResponses(404) },
      },
    },
    async (req) =>
      app.schemas.diff(req.params.tenantId, req.params.connectorId, req.params.database, req.query.from, req.query.to),
  );
};

export default fp(schemaRoutes, {
  name: 'schema-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'schema-service'],
});
