import {
  boundedLabel,
  collapseLabel,
  createMetricsRegistry,
  startStatusServer,
  taskMetrics,
  type StatusServer,
} from '../src';

describe('status server', () => {
  let server: StatusServer | undefined;
  afterEach(() => server?.close());

  it('serves the registry, forwarded text, and readiness as 200 or 503', async () => {
    const registry = createMetricsRegistry('agent', '9.9.9');
    taskMetrics(registry, 'agent', 'Tasks').observe({ operation: 'sql.query', outcome: 'ok' }, 0.2);
    let ready = false;
    server = await startStatusServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      readiness: async () => ({ gateway: { ok: ready, message: ready ? 'open' : 'closed' } }),
      extraMetrics: async () => 'temporal_request 3\n',
    });
    const base = `http://127.0.0.1:${server.port}`;
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('vsc_agent_tasks_total{operation="sql.query",outcome="ok"} 1');
    expect(text).toContain('vsc_agent_task_duration_seconds_bucket{le="0.5",operation="sql.query",outcome="ok"} 1');
    expect(text).toContain('vsc_build_info{process="agent",version="9.9.9"} 1');
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toContain('temporal_request 3');

    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({
      ready: false,
      dependencies: { gateway: { ok: false, message: 'closed' } },
    });
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    expect((await fetch(`${base}/other`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('answers not ready when a probe throws or a forwarded part fails, and keeps serving', async () => {
    const registry = createMetricsRegistry('cloud_worker', '1');
    server = await startStatusServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      readiness: async () => {
        throw new Error('temporal down');
      },
      extraMetrics: async () => {
        throw new Error('connect ECONNREFUSED');
      },
    });
    const base = `http://127.0.0.1:${server.port}`;
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(JSON.stringify(await res.json())).toContain('temporal down');
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('# forwarded metrics unavailable: connect ECONNREFUSED');
    expect(text).toContain('vsc_build_info');
  });

  it('bounds label values to a known set', () => {
    const known = new Set(['a']);
    expect(boundedLabel('a', known)).toBe('a');
    expect(boundedLabel('tenant-secret-xyz', known)).toBe('other');
    expect(boundedLabel(undefined, known)).toBe('other');
  });
});

describe('collapseLabel', () => {
  it("sums the series one label's rewrite makes equal, keeping comments and other labels", () => {
    const text = [
      '# HELP temporal_request_total Requests',
      '# TYPE temporal_request_total counter',
      'temporal_request_total{namespace="default",task_queue="connector.aaa"} 2',
      'temporal_request_total{namespace="default",task_queue="connector.bbb"} 3',
      'temporal_request_total{namespace="default",task_queue="workflows"} 7',
      'temporal_slots{task_queue="connector.aaa",worker_type="ActivityWorker"} 1',
      'temporal_slots{task_queue="connector.bbb",worker_type="ActivityWorker"} 1',
      'temporal_uptime 12.5',
      '',
    ].join('\n');
    const out = collapseLabel(text, 'task_queue', (q) => (q.startsWith('connector.') ? 'connector.*' : q));
    expect(out).toBe(
      [
        '# HELP temporal_request_total Requests',
        '# TYPE temporal_request_total counter',
        'temporal_request_total{namespace="default",task_queue="connector.*"} 5',
        'temporal_request_total{namespace="default",task_queue="workflows"} 7',
        'temporal_slots{task_queue="connector.*",worker_type="ActivityWorker"} 2',
        'temporal_uptime 12.5',
        '',
      ].join('\n'),
    );
    expect(out).not.toContain('aaa');
  });
});
