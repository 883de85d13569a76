import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiCallCursorError, type ApiCallRepository } from '@vansales/metadata';
import { GatewayError, GatewayErrorCode } from '../errors';
import { errorResponses, TenantParams } from './schemas';

/**
 * A filter's text: no control characters. PostgreSQL refuses a NUL in text, and the REST fuzzer
 * turned one into a 500; it is the caller's mistake, so a 400 naming the field.
 */
const FilterText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((v) => !/\p{Cc}/u.test(v), 'no control characters');

const ApiCall = z.object({
  id: z.string(),
  at: z.string(),
  definitionId: z.string().optional(),
  runId: z.string().optional(),
  stepId: z.string().optional(),
  apiId: z.string(),
  version: z.number(),
  operationKey: z.string(),
  side: z.enum(['cloud', 'site']),
  connectorId: z.string().optional(),
  status: z.number().describe('the HTTP status of the answer; 0 when none came (refused, timed out)'),
  requestBytes: z.number(),
  responseBytes: z.number(),
  durationMs: z.number(),
});

/**
 * The call audit (issue 11 item 3): every API operation call of a tenant, newest first, paged.
 * Records carry who, what, where, status, sizes and duration; never parameters or bodies.
 */
const apiCallRoutes: FastifyPluginAsyncZod<{ calls: ApiCallRepository }> = async (app, { calls }) => {
  app.get(
    '/v1/tenants/:tenantId/api-calls',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listApiCalls',
        tags: ['apis'],
        description:
          "The tenant's audited API operation calls, newest first: who (definition, run, step), what (API, version, operation), where (cloud or a site's connector), status, sizes and duration. Never parameters or bodies. `next` continues the listing.",
        params: TenantParams,
        querystring: z.object({
          apiId: FilterText(100).optional(),
          operationKey: FilterText(300).optional(),
          definitionId: FilterText(200).optional(),
          runId: FilterText(300).optional(),
          side: z.enum(['cloud', 'site']).optional(),
          connectorId: FilterText(100).optional(),
          failed: z
            .enum(['true', 'false'])
            .optional()
            .transform((v) => v === 'true')
            .describe('only calls without an answer or with a status of 400 or more'),
          since: z.iso.datetime({ offset: true }).optional(),
          until: z.iso.datetime({ offset: true }).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          cursor: z.string().max(200).optional(),
        }),
        response: {
          200: z.object({ calls: z.array(ApiCall), next: z.string().optional() }),
          ...errorResponses(),
        },
      },
    },
    async (req) => {
      const q = req.query;
      try {
        const page = await calls.listApiCalls(
          req.params.tenantId,
          {
            apiId: q.apiId,
            operationKey: q.operationKey,
            definitionId: q.definitionId,
            runId: q.runId,
            side: q.side,
            connectorId: q.connectorId,
            failedOnly: q.failed,
            since: q.since ? new Date(q.since) : undefined,
            until: q.until ? new Date(q.until) : undefined,
          },
          { limit: q.limit, cursor: q.cursor },
        );
        return {
          calls: page.calls.map(({ tenantId: _tenant, at, ...call }) => ({ ...call, at: at.toISOString() })),
          next: page.next,
        };
      } catch (err) {
        if (err instanceof ApiCallCursorError) throw new GatewayError(GatewayErrorCode.badRequest, err.message);
        throw err;
      }
    },
  );
};

export default fp(apiCallRoutes, {
  name: 'api-call-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth'],
});
