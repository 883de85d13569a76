import Fastify from 'fastify';
import { AgentErrorType, auditEntryFor, BUFFER_ROUTES_PREFIX } from '@vansales/protocol';
import { createGatewayMetrics } from '../src/gateway-metrics';

describe("the gateway's metrics", () => {
  it('counts requests by route pattern and status class, and buffer chunk bytes both ways', async () => {
    let sessions = 3;
    const metrics = createGatewayMetrics('0.0.1', () => sessions);
    const app = Fastify();
    metrics.instrument(app);
    app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.put(`${BUFFER_ROUTES_PREFIX}/:objectId/chunks/:index`, async () => ({ stored: true }));
    app.get(`${BUFFER_ROUTES_PREFIX}/:objectId/chunks/:index`, async (_req, reply) =>
      reply.type('application/octet-stream').send(Buffer.alloc(700)),
    );
    const put = await app.inject({
      method: 'PUT',
      url: `${BUFFER_ROUTES_PREFIX}/obj-of-tenant-acme/chunks/0`,
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(300),
    });
    expect(put.statusCode).toBe(200);
    expect(
      (await app.inject({ method: 'GET', url: `${BUFFER_ROUTES_PREFIX}/obj-of-tenant-acme/chunks/0` })).statusCode,
    ).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/no/such/path/tenant-acme' })).statusCode).toBe(404);
    metrics.task(
      auditEntryFor({
        tenantId: 'acme',
        connectorId: 'c-1',
        operation: 'data.load',
        input: { database: 'erp' },
        actor: { workflowId: 'w', runId: 'r', activityId: 'a', attempt: 1 },
        durationMs: 1500,
        errorType: AgentErrorType.policyRefused,
      }),
    );
    sessions = 2;
    const text = await metrics.registry.metrics();
    expect(text).toContain('vsc_gateway_buffer_bytes_total{direction="in"} 300');
    expect(text).toContain('vsc_gateway_buffer_bytes_total{direction="out"} 700');
    expect(text).toContain(
      `vsc_gateway_http_request_duration_seconds_count{method="PUT",route="${BUFFER_ROUTES_PREFIX}/:objectId/chunks/:index",status="2xx"} 1`,
    );
    expect(text).toContain(
      'vsc_gateway_http_request_duration_seconds_count{method="GET",route="unmatched",status="4xx"} 1',
    );
    expect(text).toContain('vsc_gateway_tasks_total{operation="data.load",outcome="PolicyRefused"} 1');
    expect(text).toContain(
      'vsc_gateway_task_duration_seconds_bucket{le="2.5",operation="data.load",outcome="PolicyRefused"} 1',
    );
    expect(text).toContain('vsc_gateway_policy_refusals_total{kind="policy"} 1');
    expect(text).toContain('vsc_gateway_agent_sessions 2');
    // Ids of the path never become label values.
    expect(text).not.toContain('acme');
    await app.close();
  });
});
