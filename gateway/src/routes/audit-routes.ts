import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditRepository, AuditSearch, Repositories } from '@vansales/metadata';
import { requireConnector } from '../services/ownership';
import { peopleChain } from '../http/people-audit';
import { Binary, ChainVerification, errorResponses, TenantParams } from './schemas';

const NDJSON = 'application/x-ndjson';
/** Most lines one export carries; a larger audit is exported in time ranges (since/until). */
const EXPORT_MAX = 100_000;

const Filters = z.object({
  principal: z.string().max(128).optional().describe('user:<id>, token:<id> or admin-token'),
  operation: z.string().max(128).optional().describe('METHOD and route, e.g. "POST /v1/tenants/:tenantId/members"'),
  since: z.iso.datetime().optional(),
  until: z.iso.datetime().optional(),
});

const toSearch = (q: z.infer<typeof Filters>): AuditSearch => ({
  principal: q.principal,
  operation: q.operation,
  since: q.since ? new Date(q.since) : undefined,
  until: q.until ? new Date(q.until) : undefined,
});

const auditRoutes: FastifyPluginAsyncZod<{
  auditRepo: AuditRepository;
  repos: Pick<Repositories, 'getConnector'>;
}> = async (app, { auditRepo, repos }) => {
  app.get(
    '/v1/tenants/:tenantId/connectors/:connectorId/audit',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listConnectorAudit',
        tags: ['connectors'],
        description:
          "The connector's audit chain as the gateway holds it (every agent operation), newest first, each record with its seq and hash; `next` pages on (as `before`). `…/audit/verify` checks the chain.",
        params: TenantParams.extend({ connectorId: z.string().min(1).max(128) }),
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(50),
          before: z.coerce.number().int().min(1).optional(),
        }),
        response: {
          200: z.object({
            events: z.array(z.object({ seq: z.number(), record: z.record(z.string(), z.unknown()) })),
            next: z.number().optional(),
          }),
          ...errorResponses(403, 404),
        },
      },
    },
    async (req) => {
      const { tenantId, connectorId } = req.params;
      await requireConnector(repos, tenantId, connectorId);
      const rows = await auditRepo.search(tenantId, connectorId, {
        beforeSeq: req.query.before,
        limit: req.query.limit,
      });
      const last = rows.at(-1);
      return {
        events: rows.map((r) => ({ seq: r.seq, record: r.record as Record<string, unknown> })),
        ...(rows.length === req.query.limit && last ? { next: last.seq } : {}),
      };
    },
  );

  app.get(
    '/v1/tenants/:tenantId/audit',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listPeopleAudit',
        tags: ['people'],
        description:
          "Changes people made in the tenant (who, when, from where, what), newest first; `next` pages on (as `before`). The records are the tenant's people hash chain.",
        params: TenantParams,
        querystring: Filters.extend({
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          before: z.coerce.number().int().min(1).optional(),
        }),
        response: {
          200: z.object({ events: z.array(z.record(z.string(), z.unknown())), next: z.number().optional() }),
          ...errorResponses(403, 404),
        },
      },
    },
    async (req) => {
      const { limit, before, ...filters } = req.query;
      const rows = await auditRepo.search(req.params.tenantId, peopleChain(req.params.tenantId), {
        ...toSearch(filters),
        beforeSeq: before,
        limit,
      });
      const last = rows.at(-1);
      return {
        events: rows.map((r) => r.record as Record<string, unknown>),
        ...(rows.length === limit && last ? { next: last.seq } : {}),
      };
    },
  );

  app.get(
    '/v1/tenants/:tenantId/audit/verify',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'verifyPeopleAudit',
        tags: ['people'],
        description:
          "Checks the tenant's people hash chain (and the gateway's signed checkpoints, when it signs them); names the first broken link.",
        params: TenantParams,
        response: { 200: ChainVerification, ...errorResponses(403, 404) },
      },
    },
    async (req) => auditRepo.verify(req.params.tenantId, peopleChain(req.params.tenantId)),
  );

  app.get(
    '/v1/tenants/:tenantId/audit/export',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'exportPeopleAudit',
        tags: ['people'],
        description: `The same records as NDJSON (${NDJSON}), one per line, oldest first, at most ${EXPORT_MAX}.`,
        params: TenantParams,
        querystring: Filters,
        response: {
          200: { description: 'one audit record per line', content: { [NDJSON]: { schema: Binary } } },
          ...errorResponses(403, 404),
        },
      },
    },
    async (req, reply) => {
      const chain = peopleChain(req.params.tenantId);
      const lines: string[] = [];
      let beforeSeq: number | undefined;
      while (lines.length < EXPORT_MAX) {
        const page = await auditRepo.search(req.params.tenantId, chain, {
          ...toSearch(req.query),
          beforeSeq,
          limit: 1000,
        });
        for (const r of page) lines.push(JSON.stringify(r.record));
        if (page.length < 1000) break;
        beforeSeq = page.at(-1)!.seq;
      }
      const body = lines.reverse().join('\n');
      return reply.type(NDJSON).send(body ? `${body}\n` : '');
    },
  );
};

export default fp(auditRoutes, {
  name: 'audit-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth'],
});
