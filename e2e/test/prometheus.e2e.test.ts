import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProcessPlatform } from '@vansales/bench/platform-processes';
import { until } from './support/harness';
import { restQuery, startMetricsPlatform } from './support/metrics-platform';
import { startPrometheus, type PrometheusServer, type QueryResult } from './support/prometheus';

/**
 * A real Prometheus server (Debian's) scrapes the gateway (with the operator's token, from a file),
 * the cloud worker and the agent (its local port) every second while real work runs: a query and an
 * extract into the buffer. What it stored is read back through its HTTP API.
 */
describe('Prometheus scrapes the gateway, the cloud worker and the agent', () => {
  let platform: ProcessPlatform;
  let prometheus: PrometheusServer;
  const dir = mkdtempSync(join(tmpdir(), 'vsc-prometheus-'));

  beforeAll(async () => {
    const started = await startMetricsPlatform('prometheus');
    platform = started.platform;
    prometheus = await startPrometheus(dir, [
      { job: 'gateway', address: new URL(platform.gatewayUrl).host, bearerToken: platform.adminToken },
      { job: 'cloud-worker', address: `127.0.0.1:${started.ports.cloudWorker}` },
      { job: 'agent', address: `127.0.0.1:${started.ports.agent}` },
    ]);
  }, 240_000);
  afterAll(async () => {
    await prometheus?.close();
    await platform?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The value of the one series a query gives, once Prometheus has one that `ok` accepts. */
  const scraped = (promql: string, ok: (v: number) => boolean) =>
    until(
      `Prometheus to have ${promql}`,
      async () => {
        const result: QueryResult[] = await prometheus.query(promql);
        return result.length === 1 && ok(result[0]!.value) ? result[0]!.value : undefined;
      },
      30_000,
    );

  it('has every target up, then the sessions, tasks by outcome, latency buckets and buffer bytes of real work', async () => {
    const targets = await until('all three targets to be scraped and up', async () => {
      const all = await prometheus.targets();
      return all.length === 3 && all.every((t) => t.health === 'up') ? all : undefined;
    });
    expect(targets.map((t) => t.job).sort()).toEqual(['agent', 'cloud-worker', 'gateway']);

    // The agent's session, as the gateway and the agent each count it.
    expect(await scraped('vsc_gateway_agent_sessions{job="gateway"}', (v) => v === 1)).toBe(1);
    expect(await scraped('vsc_agent_gateway_connected{job="agent"}', (v) => v === 1)).toBe(1);

    // Real work: a query that runs, one the agent's SQL guard refuses, and an extract into the buffer.
    expect((await restQuery(platform, 'SELECT actor_id FROM actor ORDER BY actor_id LIMIT 3')).status).toBe(200);
    expect((await restQuery(platform, 'DELETE FROM actor')).status).toBeGreaterThanOrEqual(400);
    const extracted = await platform.temporal.workflow.execute('extractStepWorkflow', {
      taskQueue: platform.workflowTaskQueue,
      workflowId: `prometheus-extract-${platform.tenantId}`,
      args: [
        {
          tenantId: platform.tenantId,
          source: { placement: 'connector', connectorId: platform.connectorId, database: 'sakila' },
          table: { name: 'rental' },
        },
      ],
    });
    expect(extracted).toMatchObject({ rowCount: 16044 });

    // Tasks by operation and outcome, on both sides of the WebSocket.
    const task = (process: string, operation: string, outcome: string) =>
      `vsc_${process}_tasks_total{job="${process}",operation="${operation}",outcome="${outcome}"}`;
    expect(await scraped(task('agent', 'sql.query', 'ok'), (v) => v >= 1)).toBe(1);
    expect(await scraped(task('agent', 'sql.query', 'SqlRefused'), (v) => v >= 1)).toBe(1);
    expect(await scraped(task('gateway', 'sql.query', 'ok'), (v) => v >= 1)).toBe(1);
    expect(await scraped(task('agent', 'data.extract', 'ok'), (v) => v >= 1)).toBe(1);
    // The latency histogram: cumulative buckets, from 0 below the extract's time to 1 at +Inf.
    const bucket = (le: string) =>
      `vsc_agent_task_duration_seconds_bucket{job="agent",operation="data.extract",outcome="ok",le="${le}"}`;
    expect(await scraped(bucket('+Inf'), (v) => v >= 1)).toBe(1);
    const buckets = (
      await prometheus.query(
        'vsc_agent_task_duration_seconds_bucket{job="agent",operation="data.extract",outcome="ok"}',
      )
    )
      .map((b) => ({ le: b.metric.le === '+Inf' ? Infinity : Number(b.metric.le), value: b.value }))
      .sort((a, b) => a.le - b.le);
    expect(buckets.length).toBeGreaterThan(5);
    expect(buckets[0]).toMatchObject({ value: 0 });
    expect(buckets.map((b) => b.value)).toEqual([...buckets.map((b) => b.value)].sort((a, b) => a - b));
    const quantile = await scraped(
      'histogram_quantile(0.5, sum by (le) (vsc_agent_task_duration_seconds_bucket{job="agent",operation="data.extract"}))',
      (v) => v > 0,
    );
    expect(quantile).toBeGreaterThan(0);

    // Bytes through the buffer: the chunks the agent wrote are the chunk PUTs the gateway took in.
    const agentIn = await scraped('vsc_agent_buffer_bytes_total{job="agent",direction="in"}', (v) => v > 100_000);
    expect(await scraped('vsc_gateway_buffer_bytes_total{job="gateway",direction="in"}', (v) => v >= agentIn)).toBe(
      agentIn,
    );

    // The cloud worker ran the workflows: the Temporal SDK's metrics, forwarded to its /metrics.
    expect(
      await scraped('sum(temporal_workflow_completed_total{job="cloud-worker"})', (v) => v >= 2),
    ).toBeGreaterThanOrEqual(2);
  });
});
