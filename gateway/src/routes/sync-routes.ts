import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, TenantParams } from './schemas';

const Table = z.object({ schema: z.string().min(1).max(128).optional(), name: z.string().min(1).max(128) });
const Endpoint = z.discriminatedUnion('placement', [
  z.object({ placement: z.literal('connector'), connectorId: z.string().uuid(), database: z.string().min(1).max(128) }),
  z.object({ placement: z.literal('cloud'), database: z.string().min(1).max(128) }),
]);
const SyncParams = TenantParams.extend({
  workflowId: z.string().regex(/^sync-[0-9a-f-]{36}$/, 'sync ids look like sync-<uuid>'),
});
const SyncState = z.object({
  runsDone: z.number(),
  tables: z.record(
    z.string(),
    z.object({
      cursor: z.unknown().optional().describe('highest cursor value copied so far'),
      rowsCopied: z.number(),
      lastRunRows: z.number(),
    }),
  ),
});

const syncRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v1/tenants/:tenantId/syncs',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'startSync',
        tags: ['syncs'],
        description: "Starts a data sync: a full load, then incremental runs past each table's cursor column.",
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
          intervalSeconds: z
            .number()
            .int()
            .min(1)
            .max(30 * 24 * 3600)
            .optional(),
          maxRuns: z.number().int().min(0).max(1_000_000).optional(),
          chunkRows: z.number().int().min(1).max(1_000_000).optional(),
          maxOfflineSeconds: z
            .number()
            .int()
            .min(1)
            .max(30 * 24 * 3600)
            .optional(),
        }),
        response: { 202: z.object({ workflowId: z.string(), runId: z.string() }), ...errorResponses(404) },
      },
    },
    async (req, reply) => reply.code(202).send(await app.syncs.start(req.params.tenantId, req.body)),
  );

  app.get(
    '/v1/tenants/:tenantId/syncs/:workflowId',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'getSync',
        tags: ['syncs'],
        description: "A sync's status, cursors and row counts.",
        params: SyncParams,
        response: {
          200: z.object({
            workflowId: z.string(),
            status: z.string().describe('Temporal execution status, e.g. RUNNING, COMPLETED'),
            state: SyncState.nullable(),
          }),
          ...errorResponses(404),
        },
      },
    },
    async (req) => app.syncs.status(req.params.tenantId, req.params.workflowId),
  );

  app.post(
    '/v1/tenants/:tenantId/syncs/:workflowId/run-now',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'runSyncNow',
        tags: ['syncs'],
        description: 'Starts the next run now; 409 when the sync has finished (it takes no more runs).',
        params: SyncParams,
        response: { 200: z.object({ workflowId: z.string(), signalled: z.boolean() }), ...errorResponses(404, 409) },
      },
    },
    async (req) => app.syncs.runNow(req.params.tenantId, req.params.workflowId),
  );
};

export default fp(syncRoutes, {
  name: 'sync-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'sync-service'],
});
