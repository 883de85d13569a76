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

/** One event about a person, for the people chain of each tenant named. */
export interface PeopleEvent {
  /** `user:<id>`, `token:<id>`, `admin-token`, or `anonymous` (a sign-in that proved nobody). */
  principal: string;
  tokenId?: string;
  role?: string;
  /** `METHOD /route` of the request, or a name such as `sign-in`. */
  operation: string;
  outcome: 'ok' | 'refused';
  status: number;
  ip: string;
  userAgent?: string;
  /** Ids and labels of what the event was about (path parameters, a sign-in's method); never a secret. */
  target?: Record<string, string>;
  /** Why it was refused (a reason code, never a message that could quote input). */
  errorType?: string;
  durationMs?: number;
}

/**
 * Appends people events to tenants' people chains. A lost line is logged for the operator and not
 * thrown: the change it records has been made already (or the refusal given).
 */
export function createPeopleAuditWriter(
  auditRepo: AuditRepository,
  onError: (err: Error, tenantId: string) => void = () => undefined,
) {
  return async (tenantIds: readonly string[], event: PeopleEvent): Promise<void> => {
    const person: AuditPerson = {
      principal: event.principal.slice(0, 128),
      ...(event.tokenId ? { tokenId: event.tokenId } : {}),
      ...(event.role ? { role: event.role } : {}),
      ip: event.ip.slice(0, 64),
      ...(event.userAgent ? { userAgent: event.userAgent.slice(0, 256) } : {}),
      status: event.status,
      ...(event.target ? { target: event.target } : {}),
    };
    for (const tenantId of new Set(tenantIds)) {
      try {
        await auditRepo.append({
          tenantId,
          connectorId: peopleChain(tenantId),
          actor: { workflowId: 'person', runId: 'control-plane', activityId: person.principal, attempt: 1 },
          operation: event.operation.slice(0, 128),
          outcome: event.outcome,
          ...(event.errorType ? { errorType: event.errorType.slice(0, 128) } : {}),
          durationMs: Math.max(0, Math.round(event.durationMs ?? 0)),
          person,
        });
      } catch (err) {
        onError(err as Error, tenantId);
      }
    }
  };
}
export type PeopleAuditWriter = ReturnType<typeof createPeopleAuditWriter>;

/**
 * Every change a person makes through the control plane (any non-read request of an `admin` route
 * that succeeded, or was refused with 403) is appended to the tenant's people chain before the
 * answer leaves: who (principal, token, role), when, from where (address, user agent), what (the
 * route and its path parameters, never a body) and the status. One hook, so no route can forget.
 */
export const peopleAuditPlugin = fp<{ auditRepo: AuditRepository }>(
  async (app, { auditRepo }) => {
    // The change is made; a lost audit line is an operator's alarm, not the caller's error.
    const write = createPeopleAuditWriter(auditRepo, (err, tenantId) =>
      app.log.error({ err: err.message, tenantId }, 'could not append to the people audit'),
    );
    app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload) => {
      if (req.is404 || READS.has(req.method) || req.routeOptions.config.auth !== 'admin') return payload;
      const status = reply.statusCode;
      if (status >= 400 && status !== 403) return payload;
      const who = principalLabel(req);
      const tenantId = tenantOfChange(req);
      if (!who || !tenantId) return payload;
      const ua = req.headers['user-agent'];
      await write([tenantId], {
        ...who,
        ...(req.memberRole ? { role: req.memberRole } : {}),
        operation: `${req.method} ${req.routeOptions.url}`,
        outcome: status === 403 ? 'refused' : 'ok',
        status,
        ip: req.ip,
        ...(typeof ua === 'string' ? { userAgent: ua } : {}),
        ...(targetOf(req) ? { target: targetOf(req) } : {}),
        durationMs: reply.elapsedTime,
      });
      return payload;
    });
  },
  { name: 'people-audit', fastify: '5.x', dependencies: ['auth'] },
);
