import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditRepository } from '@vansales/metadata';
import type { AuditPerson } from '@vansales/protocol';

/** The chain of a tenant's people audit, beside its connectors' chains in audit_events. */
export const peopleChain = (tenantId: string) => `${tenantId}/people`;

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The label of who made a request, as the audit and `principal` filters name it. */
export function principalLabel(req: FastifyRequest): { principal: string; tokenId?: string } | undefined {
  const p = req.principal;
  if (!p) return undefined;
  if (p.kind === 'admin') return { principal: 'admin-token' };
  if (p.kind === 'person') return { principal: `user:${p.userId}`, tokenId: 'tokenId' in p ? p.tokenId : undefined };
  if (p.kind === 'tenant-token') return { principal: `token:${p.tokenId}` };
  return undefined;
}

/** The tenant a change belongs to: the path's, or the one a bootstrap or a tenant creation names. */
function tenantOfChange(req: FastifyRequest): string | undefined {
  if (req.tenantId) return req.tenantId;
  const body = req.body as { tenantId?: unknown; id?: unknown } | undefined;
  if (req.routeOptions.url === '/v1/bootstrap' && typeof body?.tenantId === 'string') return body.tenantId;
  if (req.routeOptions.url === '/v1/tenants' && typeof body?.id === 'string') return body.id;
  return undefined;
}

function targetOf(req: FastifyRequest): Record<string, string> | undefined {
  const params = req.params as Record<string, unknown> | undefined;
  if (!params || Object.keys(params).length === 0) return undefined;
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k.slice(0, 64), String(v).slice(0, 256)]));
}

/**
 * Every change a person makes through the control plane (any non-read request of an `admin` route
 * that succeeded, or was refused with 403) is appended to the tenant's people chain before the
 * answer leaves: who (principal, token, role), when, from where (address, user agent), what (the
 * route and its path parameters, never a body) and the status. One hook, so no route can forget.
 */
export const peopleAuditPlugin = fp<{ auditRepo: AuditRepository }>(
  async (app, { auditRepo }) => {
    app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload) => {
      if (req.is404 || READS.has(req.method) || req.routeOptions.config.auth !== 'admin') return payload;
      const status = reply.statusCode;
      if (status >= 400 && status !== 403) return payload;
      const who = principalLabel(req);
      const tenantId = tenantOfChange(req);
      if (!who || !tenantId) return payload;
      const ua = req.headers['user-agent'];
      const person: AuditPerson = {
        ...who,
        ...(req.memberRole ? { role: req.memberRole } : {}),
        ip: req.ip.slice(0, 64),
        ...(typeof ua === 'string' ? { userAgent: ua.slice(0, 256) } : {}),
        status,
        ...(targetOf(req) ? { target: targetOf(req) } : {}),
      };
      try {
        await auditRepo.append({
          tenantId,
          connectorId: peopleChain(tenantId),
          actor: { workflowId: 'person', runId: 'control-plane', activityId: who.principal, attempt: 1 },
          operation: `${req.method} ${req.routeOptions.url}`.slice(0, 128),
          outcome: status === 403 ? 'refused' : 'ok',
          durationMs: Math.max(0, Math.round(reply.elapsedTime)),
          person,
        });
      } catch (err) {
        // The change is made; a lost audit line is an operator's alarm, not the caller's error.
        req.log.error({ err: (err as Error).message, tenantId }, 'could not append to the people audit');
      }
      return payload;
    });
  },
  { name: 'people-audit', fastify: '5.x', dependencies: ['auth'] },
);
