import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SqlQueryOutput } from '@vansales/protocol';
import { callerGone, errorResponses, TenantParams } from './schemas';

const Started = z.object({ workflowId: z.string(), runId: z.string() });

const queryRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v1/tenants/:tenantId/queries',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'runQuery',
        tags: ['queries'],
        description:
          'Runs one read-only statement on a site database through its agent: 200 with the rows (wait), or 202 with the workflow id.',
        params: TenantParams,
        body: z.object({
          connectorId: z.string().uuid(),
          database: z.string().min(1).max(128),
          sql: z.string().min(1).max(100_000),
          params: z
            .array(z.union([z.string(), z.number(), z.boolean(), z.null()]))
            .max(1000)
            .optional(),
          maxRows: z.number().int().min(1).max(100_000).optional(),
          maxOfflineSeconds: z
            .number()
            .int()
            .min(1)
            .max(30 * 24 * 3600)
            .optional(),
          wait: z.boolean().default(true),
        }),
        response: { 200: Started.extend({ result: SqlQueryOutput }), 202: Started, ...errorResponses(404, 422, 429) },
      },
    },
    async (req, reply) => {
      const { wait, ...input } = req.body;
      await app.quotas?.takeRun(req.params.tenantId);
      const out = await app.queries.start(req.params.tenantId, input, wait, callerGone(reply));
      return reply
        .code(wait ? 200 : 202)
        .send(out as z.infer<typeof Started> & { result: z.infer<typeof SqlQueryOutput> });
    },
  );
};

export default fp(queryRoutes, {
  name: 'query-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'query-service'],
});
