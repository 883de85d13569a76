import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { QUOTA_NAMES, type QuotaName } from '../services/quota-service';
import { actorOf } from './definition-run-routes';
import { errorResponses, TenantParams } from './schemas';

const Limit = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const limitsOf = <T extends z.ZodType>(value: T) =>
  z.object(Object.fromEntries(QUOTA_NAMES.map((n) => [n, value])) as Record<QuotaName, T>);
const Limits = limitsOf(Limit).describe(
  'connectors: how many the tenant may have; runsPerMinute: run starts and queries per sliding minute; bufferBytes: bytes in unexpired buffer objects; webhooksPerMinute: signed webhook deliveries per sliding minute',
);
const TenantQuotas = z.object({
  tenantId: z.string(),
  limits: Limits.describe('what applies now'),
  defaults: Limits.describe("the gateway's defaults (VSC_QUOTA_*)"),
  overrides: limitsOf(Limit.optional()).describe('the limits set for this tenant'),
  updatedBy: z.string().nullable(),
  updatedAt: z.string().nullable(),
});

/** Who changed the quotas: the person, the tenant token, or the admin token (with its X-Actor label). */
export function changedBy(req: FastifyRequest): string {
  const p = req.principal;
  if (p.kind === 'person') return `person:${p.userId}`;
  if (p.kind === 'tenant-token') return `token:${p.tokenId}`;
  return actorOf(req);
}

const quotaRoutes: FastifyPluginAsyncZod = async (app) => {
  const quotas = app.quotas!;
  app.get(
    '/v1/tenants/:tenantId/quotas',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'getTenantQuotas',
        tags: ['tenants'],
        description: "The tenant's quotas: the limits that apply, the gateway's defaults and the tenant's overrides.",
        params: TenantParams,
        response: { 200: TenantQuotas, ...errorResponses() },
      },
    },
    async (req) => quotas.describe(req.params.tenantId),
  );

  app.put(
    '/v1/tenants/:tenantId/quotas',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'setTenantQuotas',
        tags: ['tenants'],
        description:
          "Sets the tenant's quota overrides (owner or admin): the limits given replace the stored ones, a quota left out follows the default again. A refused request names its quota (429 QUOTA_EXCEEDED).",
        params: TenantParams,
        body: limitsOf(Limit.optional()).strict(),
        response: { 200: TenantQuotas, ...errorResponses(404) },
      },
    },
    async (req) => {
      await app.tenants.require(req.params.tenantId);
      return quotas.set(req.params.tenantId, req.body, changedBy(req));
    },
  );
};

export default fp(quotaRoutes, {
  name: 'quota-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'quota-service', 'tenant-service'],
});
