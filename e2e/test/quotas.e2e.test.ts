import { randomBytes, randomUUID } from 'node:crypto';
import { bufferPaths, BufferHeader } from '@vansales/protocol';
import { DEFINITION_FORMAT } from '@vansales/definitions';
import { startPlatform, type Platform } from './support/harness';
import { standardHeaders } from './support/webhook-signing';

const KiB = 1024;
type QuotaError = {
  error: { code: string; quota: string; limit: number; used: number; message: string; raisedBy: string };
};

/**
 * Per-tenant quotas (issue 12 section 1) through the real gateway: each quota refuses with 429 naming
 * itself, its limit, the use and who can raise it; another tenant is unaffected; raising the quota
 * through REST lets the next request through. Rates count in Redis (the harness sets VSC_REDIS_URL).
 */
describe('quotas per tenant (real gateway, Redis, PostgreSQL metadata, Temporal)', () => {
  let platform: Platform;
  const [a, b] = [`qa${randomBytes(3).toString('hex')}`, `qb${randomBytes(3).toString('hex')}`];
  const api = <T = Record<string, unknown>>(method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown) =>
    platform.api<T>(method, url, body);
  const setQuotas = async (tenantId: string, limits: Record<string, number>) => {
    const res = await api<{ limits: Record<string, number> }>('PUT', `/v1/tenants/${tenantId}/quotas`, limits);
    expect(res.status).toBe(200);
    return res.body;
  };
  const expectRefusal = (res: { status: number; body: unknown }, quota: string, limit: number, used: number) => {
    expect(res.status).toBe(429);
    const { error } = res.body as QuotaError;
    expect(error).toMatchObject({ code: 'QUOTA_EXCEEDED', quota, limit, used });
    expect(error.message).toContain(quota);
    expect(error.message).toMatch(/owner or admin/);
    expect(error.raisedBy).toMatch(/PUT \/v1\/tenants\/:tenantId\/quotas/);
  };

  beforeAll(async () => {
    platform = await startPlatform({
      gateway: { VSC_QUOTA_CONNECTORS: '2', VSC_QUOTA_RUNS_PER_MINUTE: '3', VSC_QUOTA_WEBHOOKS_PER_MINUTE: '1' },
    });
    for (const id of [a, b]) expect((await api('POST', '/v1/tenants', { id, name: id })).status).toBe(201);
  }, 120_000);
  afterAll(async () => platform?.close());

  it('shows the defaults, and refuses a PUT with an unknown quota or a negative limit', async () => {
    const res = await api('GET', `/v1/tenants/${a}/quotas`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      tenantId: a,
      limits: { connectors: 2, runsPerMinute: 3, webhooksPerMinute: 1 },
      overrides: {},
      updatedBy: null,
    });
    expect((await api('PUT', `/v1/tenants/${a}/quotas`, { sessions: 5 })).status).toBe(400);
    expect((await api('PUT', `/v1/tenants/${a}/quotas`, { connectors: -1 })).status).toBe(400);
    expect((await api('PUT', `/v1/tenants/nosuchtenant/quotas`, { connectors: 1 })).status).toBe(404);
  });

  it('counts connectors: the third is refused, another tenant creates its own, raising the quota lets it in', async () => {
    const create = (tenantId: string) => api('POST', `/v1/tenants/${tenantId}/connectors`, { name: randomUUID() });
    expect((await create(a)).status).toBe(201);
    expect((await create(a)).status).toBe(201);
    const refused = await create(a);
    expectRefusal(refused, 'connectors', 2, 2);
    expect((await create(b)).status).toBe(201);
    const raised = await setQuotas(a, { connectors: 3 });
    expect(raised.limits.connectors).toBe(3);
    expect((await create(a)).status).toBe(201);
    expect((await api('GET', `/v1/tenants/${a}/quotas`)).body).toMatchObject({
      overrides: { connectors: 3 },
      updatedBy: 'admin',
    });
  });

  it('counts run starts and queries per sliding minute, with Retry-After; another tenant goes on', async () => {
    // Neither the connector nor the definition exists: each request is counted, then answered 404.
    const query = (tenantId: string) =>
      platform.gateway.app.inject({
        method: 'POST',
        url: `/v1/tenants/${tenantId}/queries`,
        payload: { connectorId: randomUUID(), database: 'erp', sql: 'select 1', wait: false },
        headers: { authorization: `Bearer ${platform.adminToken}` },
      });
    const start = (tenantId: string) => api('POST', `/v1/tenants/${tenantId}/definitions/nodefinition/runs`, {});
    expect((await query(a)).statusCode).toBe(404);
    expect((await start(a)).status).toBe(404);
    expect((await query(a)).statusCode).toBe(404);
    const refused = await query(a);
    expectRefusal({ status: refused.statusCode, body: refused.json() }, 'runsPerMinute', 3, 3);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Run starts share the quota with queries.
    expectRefusal(await start(a), 'runsPerMinute', 3, 3);
    expect((await query(b)).statusCode).toBe(404);
    await setQuotas(a, { connectors: 3, runsPerMinute: 10 });
    expect((await query(a)).statusCode).toBe(404);
    expect((await start(a)).status).toBe(404);
  });

  it('counts buffer bytes set through REST, and raising the quota lets the next chunk in', async () => {
    await setQuotas(a, { bufferBytes: 1024 * KiB });
    const grant = (tenantId: string) =>
      platform.gateway.grantBufferAccess({ tenantId, connectorId: 'c', scope: 'write' });
    const put = (g: { objectId: string; token: string }) =>
      platform.gateway.app.inject({
        method: 'PUT',
        url: bufferPaths.chunk(g.objectId, 0),
        payload: randomBytes(600 * KiB),
        headers: {
          authorization: `Bearer ${g.token}`,
          'content-type': 'application/octet-stream',
          [BufferHeader.rows]: '1',
        },
      });
    expect((await put(grant(a))).statusCode).toBe(200);
    const refused = await put(grant(a));
    expectRefusal({ status: refused.statusCode, body: refused.json() }, 'bufferBytes', 1024 * KiB, 600 * KiB);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await put(grant(b))).statusCode).toBe(200);
    await setQuotas(a, { bufferBytes: 4096 * KiB });
    expect((await put(grant(a))).statusCode).toBe(200);
  });

  it('counts verified webhook deliveries per minute; another tenant goes on; raising lets the next in', async () => {
    const hookOf = async (tenantId: string) => {
      const base = `/v1/tenants/${tenantId}/definitions`;
      const document = {
        format: DEFINITION_FORMAT,
        name: 'hooked',
        triggers: [{ kind: 'webhook', scheme: 'standard-webhooks' }],
        steps: [{ id: 'pause', kind: 'wait', duration: '1s' }],
        edges: [],
      };
      const created = await api<{ version: { version: number } }>('POST', base, { id: 'hooked', document });
      expect(created.status).toBe(201);
      const published = await api<{ webhook: { path: string; secret: string } }>('POST', `${base}/hooked/publish`, {
        version: created.body.version.version,
      });
      expect(published.status).toBe(200);
      return published.body.webhook;
    };
    const deliver = async (hook: { path: string; secret: string }) => {
      const body = JSON.stringify({ event: randomUUID() });
      const res = await platform.gateway.app.inject({
        method: 'POST',
        url: hook.path,
        headers: standardHeaders(hook.secret, `msg_${randomUUID()}`, body),
        payload: body,
      });
      return { status: res.statusCode, body: res.json() as unknown, retryAfter: res.headers['retry-after'] };
    };
    const [hookA, hookB] = [await hookOf(a), await hookOf(b)];
    expect((await deliver(hookA)).status).toBe(202);
    const refused = await deliver(hookA);
    expectRefusal(refused, 'webhooksPerMinute', 1, 1);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await deliver(hookB)).status).toBe(202);
    await setQuotas(a, { webhooksPerMinute: 5 });
    expect((await deliver(hookA)).status).toBe(202);
  });
});
