import fp from 'fastify-plugin';
import type { QuotaOverrides, StoredQuotaOverrides } from '@vansales/metadata';
import { GatewayError, GatewayErrorCode } from '../errors';
import type { Logger } from '../logger';
import { memoryWindow, type SlidingWindow } from './rate-window';

/** The quotas of a tenant (issue 12 section 1). Rates are per sliding minute. */
export const QUOTA_NAMES = ['connectors', 'runsPerMinute', 'bufferBytes', 'webhooksPerMinute'] as const;
export type QuotaName = (typeof QUOTA_NAMES)[number];
export type QuotaLimits = Record<QuotaName, number>;

const MINUTE_MS = 60_000;

/** What each quota counts, for the messages of its refusals. */
const COUNTS: Record<QuotaName, string> = {
  connectors: 'connectors',
  runsPerMinute: 'run starts and queries in the last minute',
  bufferBytes: 'bytes in the buffer',
  webhooksPerMinute: 'webhook deliveries in the last minute',
};

export interface QuotaServiceDeps {
  /** VSC_QUOTA_* (config.ts): every tenant's limits unless overridden. */
  defaults: QuotaLimits;
  /** Limits an operator set per tenant in the environment (VSC_BUFFER_TENANT_QUOTAS): under the stored overrides. */
  configured?: (tenantId: string) => Partial<QuotaLimits>;
  /** The overrides owners and admins set through REST (the metadata store). */
  overrides: {
    get(tenantId: string): Promise<StoredQuotaOverrides | undefined>;
    put(tenantId: string, limits: QuotaOverrides, updatedBy: string): Promise<void>;
  };
  countConnectors(tenantId: string): Promise<number>;
  /** Redis when VSC_REDIS_URL is set (shared by gateway nodes); else this process's. */
  window?: SlidingWindow;
  log?: Logger;
}

/** A tenant's limits as GET /v1/tenants/:t/quotas shows them. */
export interface TenantQuotas {
  tenantId: string;
  limits: QuotaLimits;
  defaults: QuotaLimits;
  overrides: Partial<QuotaLimits>;
  updatedBy: string | null;
  updatedAt: string | null;
}

function quotaError(tenantId: string, quota: QuotaName, limit: number, used: number, retryAfterSeconds?: number) {
  const wait = retryAfterSeconds === undefined ? '' : ` Try again in ${retryAfterSeconds} s, or ask`;
  return new GatewayError(
    GatewayErrorCode.quotaExceeded,
    `tenant ${tenantId} is at its ${quota} quota: ${used} ${COUNTS[quota]}, limit ${limit}.${wait || ' Ask'} an owner or admin of the tenant to raise it (PUT /v1/tenants/${tenantId}/quotas).`,
    {
      quota,
      limit,
      used,
      raisedBy: 'an owner or admin of the tenant (PUT /v1/tenants/:tenantId/quotas)',
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    },
  );
}

/** One place that knows every tenant's limits and checks them; each enforcement point calls it. */
export function createQuotaService(deps: QuotaServiceDeps) {
  const { defaults, overrides } = deps;
  const fallback = memoryWindow();
  const window = deps.window ?? fallback;

  /** A rate check never stops the platform: Redis unreachable, this node counts alone meanwhile. */
  async function take(key: string, limit: number) {
    try {
      return await window.take(key, limit, MINUTE_MS);
    } catch (err) {
      deps.log?.warn({ err: (err as Error).message }, 'quota window unreachable; counting in this process');
      return fallback.take(key, limit, MINUTE_MS);
    }
  }

  async function describe(tenantId: string): Promise<TenantQuotas> {
    const stored = await overrides.get(tenantId);
    const own = { ...deps.configured?.(tenantId), ...pick(stored?.limits ?? {}) };
    return {
      tenantId,
      limits: { ...defaults, ...own },
      defaults,
      overrides: own,
      updatedBy: stored?.updatedBy ?? null,
      updatedAt: stored?.updatedAt.toISOString() ?? null,
    };
  }

  async function rate(tenantId: string, quota: 'runsPerMinute' | 'webhooksPerMinute') {
    const limit = (await describe(tenantId)).limits[quota];
    const taken = await take(`${quota}:${tenantId}`, limit);
    if (!taken.ok) throw quotaError(tenantId, quota, limit, taken.used, Math.ceil(taken.retryAfterMs / 1000));
  }

  return {
    describe,
    /** Replaces the tenant's REST overrides; a quota left out follows the defaults again. */
    async set(tenantId: string, limits: Partial<QuotaLimits>, updatedBy: string): Promise<TenantQuotas> {
      await overrides.put(tenantId, pick(limits), updatedBy);
      return describe(tenantId);
    },
    async limits(tenantId: string): Promise<QuotaLimits> {
      return (await describe(tenantId)).limits;
    },
    /** Before a connector is created: its count may not pass the limit. */
    async checkConnectorCreation(tenantId: string): Promise<void> {
      const limit = (await describe(tenantId)).limits.connectors;
      const used = await deps.countConnectors(tenantId);
      if (used >= limit) throw quotaError(tenantId, 'connectors', limit, used);
    },
    /** Counts a run start or a query (one shared rate); 429 with Retry-After past it. */
    takeRun: (tenantId: string) => rate(tenantId, 'runsPerMinute'),
    /** Counts a signed webhook delivery; 429 with Retry-After past it (senders retry). */
    takeWebhook: (tenantId: string) => rate(tenantId, 'webhooksPerMinute'),
  };
}
export type QuotaService = ReturnType<typeof createQuotaService>;

/** The known quotas of a stored object (a quota later removed is ignored, not an error). */
function pick(limits: Partial<Record<string, number>>): Partial<QuotaLimits> {
  const out: Partial<QuotaLimits> = {};
  for (const name of QUOTA_NAMES) if (typeof limits[name] === 'number') out[name] = limits[name];
  return out;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Undefined when the app was built without quotas (then nothing is limited by them). */
    quotas: QuotaService | undefined;
  }
}

export const quotaServicePlugin = fp<{ quotas?: QuotaService }>(
  async (app, { quotas }) => void app.decorate('quotas', quotas),
  { name: 'quota-service', fastify: '5.x' },
);
