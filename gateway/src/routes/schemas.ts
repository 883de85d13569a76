import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { ChainBreakReason, TENANT_ID_PATTERN } from '@vansales/protocol';

/**
 * The error body of every route: `{ error: { code, message, …details } }` (codes and statuses in
 * `errors.ts`). Details such as `workflowId`, `type` or `reason` ride along, so it is open.
 */
export const ErrorBody = z.object({
  error: z
    .object({
      code: z.string().describe('one of GatewayErrorCode, or of BufferErrorCode on the buffer routes'),
      message: z.string(),
    })
    .loose(),
});

type Status = 400 | 401 | 403 | 404 | 408 | 409 | 410 | 413 | 415 | 422 | 429 | 500 | 503;

/** Error responses of a route: always 400 (validation), 401, 408 (request too slow), 500 and 503, plus the ones named. */
export function errorResponses(...statuses: Status[]): Partial<Record<Status, typeof ErrorBody>> {
  const out: Partial<Record<Status, typeof ErrorBody>> = {};
  for (const status of [400, 401, 408, 500, 503, ...statuses] as Status[]) out[status] = ErrorBody;
  return out;
}

/**
 * A schema version number from a query string. Versions are stored as PostgreSQL `integer`: a
 * larger number cannot name a version, and reaching the database with it failed with a 500.
 */
export const SchemaVersionNumber = z.coerce
  .number()
  .int()
  .positive()
  .max(2_147_483_647, 'schema versions are whole numbers from 1 to 2147483647');

export const TenantId = z.string().regex(TENANT_ID_PATTERN, 'tenant ids are lowercase slugs of 2-40 characters');
export const TenantParams = z.object({ tenantId: TenantId });
export const ConnectorParams = TenantParams.extend({ connectorId: z.string().uuid() });
export const Connector = z.object({ id: z.string(), tenantId: z.string(), name: z.string() });

/** Raw bytes in a request or an answer (`application/octet-stream`). */
export const Binary = z.unknown().meta({ type: 'string', format: 'binary' });

/**
 * Aborts when the caller goes away before its answer is sent (a closed socket, an idle limit):
 * routes that wait for a workflow pass it on, so the gateway stops waiting for nobody.
 */
export function callerGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

const ChainHead = z.object({ seq: z.number(), hash: z.string() });
/** What verifying an audit hash chain found: every link holds, or the first broken one and why. */
export const ChainVerification = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    count: z.number(),
    head: ChainHead.nullable(),
    keyed: z
      .object({ signedThrough: z.number() })
      .optional()
      .describe("present when the gateway's signed checkpoints were checked (VSC_AUDIT_SIGNING_KEY)"),
  }),
  z.object({
    ok: z.literal(false),
    brokenAt: z.number().describe('seq of the first broken link'),
    index: z.number(),
    reason: z.enum(Object.values(ChainBreakReason) as [ChainBreakReason, ...ChainBreakReason[]]),
    message: z.string(),
    count: z.number().describe('records verified before the break'),
  }),
]);
