import { memoryWindow } from '../src/services/rate-window';
import { createQuotaService, type QuotaLimits } from '../src/services/quota-service';
import { GatewayError } from '../src/errors';

describe('the sliding window of the rate quotas', () => {
  it('counts each event for exactly one window, not per fixed slot, and says when a slot frees', async () => {
    let now = 10_000;
    const window = memoryWindow(() => now);
    const take = () => window.take('t', 3, 1000);
    expect(await take()).toEqual({ ok: true, used: 1, retryAfterMs: 0 }); // at 10 000
    now += 500;
    expect((await take()).ok).toBe(true); // 10 500
    now += 400;
    expect((await take()).ok).toBe(true); // 10 900
    now += 50;
    // The first event leaves the window at 11 000: 50 ms from now.
    expect(await take()).toEqual({ ok: false, used: 3, retryAfterMs: 50 });
    now += 50;
    // A fixed window would have let three more through at once here; the sliding one frees one slot.
    expect((await take()).ok).toBe(true);
    // Events at 10 500, 10 900 and 11 000: the next slot frees when 10 500 leaves, at 11 500.
    expect(await take()).toMatchObject({ ok: false, used: 3, retryAfterMs: 500 });
  });

  it('keeps keys apart (one tenant at its limit leaves the others theirs)', async () => {
    const window = memoryWindow(() => 0);
    expect((await window.take('a', 1, 1000)).ok).toBe(true);
    expect((await window.take('a', 1, 1000)).ok).toBe(false);
    expect((await window.take('b', 1, 1000)).ok).toBe(true);
  });

  it('refuses everything at limit 0 (a tenant stopped by its owner)', async () => {
    expect(await memoryWindow(() => 0).take('a', 0, 1000)).toMatchObject({ ok: false, used: 0 });
  });
});

describe('the quota service', () => {
  const defaults: QuotaLimits = { connectors: 2, runsPerMinute: 1, bufferBytes: 1024, webhooksPerMinute: 1 };
  const stored = new Map<string, { limits: Record<string, number>; updatedBy: string; updatedAt: Date }>();
  const service = createQuotaService({
    defaults,
    configured: (t) => (t === 'big' ? { bufferBytes: 4096 } : {}),
    overrides: {
      get: async (t) => stored.get(t),
      put: async (t, limits, updatedBy) => void stored.set(t, { limits, updatedBy, updatedAt: new Date(0) }),
    },
    countConnectors: async () => 2,
  });

  it('answers a refusal that names the quota, its limit, the use and who can raise it', async () => {
    const err = await service.checkConnectorCreation('acme').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).details).toMatchObject({ quota: 'connectors', limit: 2, used: 2 });
    expect((err as GatewayError).message).toMatch(/connectors quota.*2 connectors, limit 2.*owner or admin.*quotas/);
    await service.takeRun('acme');
    const rate = (await service.takeRun('acme').catch((e: unknown) => e)) as GatewayError;
    expect(rate.details).toMatchObject({ quota: 'runsPerMinute', limit: 1, used: 1 });
    expect(rate.details?.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('layers defaults, the environment and the stored overrides, and ignores unknown names', async () => {
    expect((await service.limits('big')).bufferBytes).toBe(4096);
    const after = await service.set('big', { connectors: 5 }, 'person:u1');
    expect(after).toMatchObject({
      limits: { connectors: 5, bufferBytes: 4096, runsPerMinute: 1 },
      overrides: { connectors: 5, bufferBytes: 4096 },
      updatedBy: 'person:u1',
    });
    stored.set('odd', { limits: { removedQuota: 9, runsPerMinute: 7 }, updatedBy: 'x', updatedAt: new Date(0) });
    expect((await service.describe('odd')).overrides).toEqual({ runsPerMinute: 7 });
    await expect(service.checkConnectorCreation('big')).resolves.toBeUndefined();
  });
});
