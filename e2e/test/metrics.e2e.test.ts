import type { ProcessPlatform } from '@vansales/bench/platform-processes';
import { until } from './support/harness';
import { restQuery, startMetricsPlatform, type MetricsPorts } from './support/metrics-platform';

/** One sample of a Prometheus text exposition (0 when the series is not there yet). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const braces = /^[^{ ]+(?:\{([^}]*)\})? (\S+)/.exec(line);
    if (!braces) continue;
    const have = Object.fromEntries(
      [...(braces[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(braces[2]);
  }
  return 0;
}

/**
 * The gateway, the cloud worker and the agent as built processes (dist/main.js), each scraped over
 * HTTP before and after real work: a query that runs and one the agent's SQL guard refuses.
 */
describe('metrics and readiness of the real processes (gateway, cloud worker, agent)', () => {
  let platform: ProcessPlatform;
  let ports: MetricsPorts;
  const scrape = async (url: string, token?: string) => {
    const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    expect(res.status).toBe(200);
    return res.text();
  };
  const gatewayMetrics = () => scrape(`${platform.gatewayUrl}/metrics`, platform.adminToken);
  const agentMetrics = () => scrape(`http://127.0.0.1:${ports.agent}/metrics`);
  const cloudMetrics = () => scrape(`http://127.0.0.1:${ports.cloudWorker}/metrics`);

  beforeAll(async () => {
    ({ platform, ports } = await startMetricsPlatform('metrics'));
  }, 240_000);
  afterAll(() => platform?.close());

  const query = (sql: string) => restQuery(platform, sql);

  it('counters move after real work: tasks by type and outcome, latency histograms, sessions, refusals', async () => {
    const before = { gateway: await gatewayMetrics(), agent: await agentMetrics() };
    const ok = { operation: 'sql.query', outcome: 'ok' };
    const refused = { operation: 'sql.query', outcome: 'SqlRefused' };

    const good = await query('SELECT actor_id, first_name FROM actor ORDER BY actor_id LIMIT 3');
    expect(good.status).toBe(200);
    const bad = await query('DELETE FROM actor');
    expect(bad.status).toBeGreaterThanOrEqual(400);

    // The agent: one task of each outcome, in the histogram too; one SQL refusal; its session open.
    const agent = await agentMetrics();
    expect(sample(agent, 'vsc_agent_tasks_total', ok) - sample(before.agent, 'vsc_agent_tasks_total', ok)).toBe(1);
    expect(
      sample(agent, 'vsc_agent_tasks_total', refused) - sample(before.agent, 'vsc_agent_tasks_total', refused),
    ).toBe(1);
    expect(sample(agent, 'vsc_agent_task_duration_seconds_count', ok)).toBe(sample(agent, 'vsc_agent_tasks_total', ok));
    expect(sample(agent, 'vsc_agent_task_duration_seconds_bucket', { ...ok, le: '+Inf' })).toBeGreaterThan(0);
    expect(sample(agent, 'vsc_agent_policy_refusals_total', { kind: 'sql' })).toBe(
      sample(before.agent, 'vsc_agent_policy_refusals_total', { kind: 'sql' }) + 1,
    );
    expect(sample(agent, 'vsc_agent_gateway_connected')).toBe(1);
    expect(sample(agent, 'vsc_agent_sessions_total')).toBeGreaterThanOrEqual(1);
    expect(sample(agent, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    // The gateway saw the same two tasks (its audit of them), the query route and its session.
    const gateway = await gatewayMetrics();
    expect(sample(gateway, 'vsc_gateway_tasks_total', ok) - sample(before.gateway, 'vsc_gateway_tasks_total', ok)).toBe(
      1,
    );
    expect(sample(gateway, 'vsc_gateway_policy_refusals_total', { kind: 'sql' })).toBe(
      sample(before.gateway, 'vsc_gateway_policy_refusals_total', { kind: 'sql' }) + 1,
    );
    expect(sample(gateway, 'vsc_gateway_agent_sessions')).toBe(1);
    expect(
      sample(gateway, 'vsc_gateway_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/v1/tenants/:tenantId/queries',
        status: '2xx',
      }),
    ).toBeGreaterThanOrEqual(1);
    // The Temporal SDK's own metrics, forwarded from its exporter (the per-connector Workers poll).
    expect(gateway).toMatch(/^temporal_\w+/m);

    // The cloud worker ran the query workflow: the SDK's workflow metrics, forwarded.
    const cloud = await until('the cloud worker to report a completed workflow', async () => {
      const text = await cloudMetrics();
      return sample(text, 'temporal_workflow_completed_total') > 0 ? text : undefined;
    });
    expect(cloud).toMatch(/^temporal_workflow_task_execution_latency_seconds_bucket/m);
    // A cloud activity (the buffer purge, harmless on this test's own buffer folder) in the worker's own counters.
    await platform.temporal.workflow.execute('bufferPurgeWorkflow', {
      taskQueue: platform.workflowTaskQueue,
      workflowId: `metrics-purge-${platform.tenantId}`,
      args: [{ cloudTaskQueue: platform.cloudTaskQueue }],
    });
    const purged = { operation: 'purgeExpiredBuffer', outcome: 'ok' };
    const afterPurge = await cloudMetrics();
    expect(sample(afterPurge, 'vsc_cloud_worker_tasks_total', purged)).toBe(1);
    expect(sample(afterPurge, 'vsc_cloud_worker_task_duration_seconds_count', purged)).toBe(1);
    expect(sample(cloud, 'vsc_build_info', { process: 'cloud_worker' })).toBe(1);

    // No tenant, connector or statement in any label of any process (the test's task queue names
    // share the tenant's random suffix: a label value equal to the tenant id is what would leak).
    for (const text of [agent, gateway, cloud]) {
      expect(text).not.toContain(`"${platform.tenantId}"`);
      expect(text).not.toContain(platform.connectorId);
      expect(text).not.toContain('first_name');
      expect(text).not.toContain('DELETE');
      expect(text).not.toContain(platform.adminToken);
    }
    // The gateway's per-connector task queues are one series: `connector.*`.
    expect(gateway).toContain('task_queue="connector.*"');
  });

  it('readiness: the agent and the cloud worker answer 200 with each dependency', async () => {
    const agent = await fetch(`http://127.0.0.1:${ports.agent}/readyz`);
    expect(agent.status).toBe(200);
    expect(await agent.json()).toEqual({
      ready: true,
      dependencies: {
        gateway: { ok: true, message: 'a gateway session is open' },
        auditLog: { ok: true, message: 'the audit log is writable' },
      },
    });
    const cloud = await fetch(`http://127.0.0.1:${ports.cloudWorker}/readyz`);
    expect(cloud.status).toBe(200);
    const body = (await cloud.json()) as { dependencies: Record<string, { ok: boolean; message: string }> };
    expect(body.dependencies.temporal?.ok).toBe(true);
    expect(body.dependencies.workers?.message).toMatch(/RUNNING/);
    expect((await fetch(`${platform.gatewayUrl}/readyz`)).status).toBe(200);
  });

  it("the gateway's /metrics takes the operator's token only: none, or a tenant's, is refused", async () => {
    expect((await fetch(`${platform.gatewayUrl}/metrics`)).status).toBe(401);
    const token = await fetch(`${platform.gatewayUrl}/v1/tenants/${platform.tenantId}/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'scraper', role: 'owner', kind: 'tenant' }),
    });
    expect(token.status).toBe(201);
    const tenantToken = ((await token.json()) as { token: string }).token;
    const refused = await fetch(`${platform.gatewayUrl}/metrics`, {
      headers: { authorization: `Bearer ${tenantToken}` },
    });
    expect(refused.status).toBe(403);
  });

  it("the gateway's session gauge falls to 0 when the agent stops", async () => {
    const agent = platform.procs.get('agent')!;
    const exited = new Promise((r) => agent.once('exit', r));
    agent.kill('SIGTERM');
    await exited;
    await until('the gateway to drop the session', async () => {
      const text = await gatewayMetrics();
      return sample(text, 'vsc_gateway_agent_sessions') === 0 ? true : undefined;
    });
  });
});
