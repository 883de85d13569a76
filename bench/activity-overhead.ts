/**
 * Activity overhead: the same no-op activity through gateway, WebSocket and agent, against the
 * no-op on a cloud worker, in the same run on the same Temporal server. Prints per-path latency
 * (cycle time between consecutive activities of one workflow), the added p50/p99, and the
 * throughput ratio with many activities in flight.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, type ActivityInterceptorsFactory } from '@temporalio/worker';
import { bundleWorkflows } from '@vansales/cloud-worker';
import { workflowTracingSinks } from '@vansales/tracing/temporal';
import { pingWorkflow } from '@vansales/workflows';
import { Agent, parseAgentConfig } from '@vansales/connector-agent';
import { generateAgentKeyPair } from '@vansales/protocol';
import { createGateway, loadGatewayConfig, type Logger } from '@vansales/gateway';
import { vansalesDataConverter } from '@vansales/temporal-config';
import { services, emit, freshDatabase, percentile, platformEnv, round } from './support';

const SEQUENTIAL = Number(process.env.SEQUENTIAL ?? 300);
const PARALLEL = Number(process.env.PARALLEL ?? 1000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 50);
/** Temporal's history event types of one activity cycle (temporal.api.enums.v1.EventType). */
const EVENT_NAMES: Record<number, string> = {
  5: 'wft-scheduled',
  6: 'wft-started',
  7: 'wft-completed',
  10: 'activity-scheduled',
  11: 'activity-started',
  12: 'activity-completed',
};

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR'), workerHeartbeatInterval: 0 });
  const db = await freshDatabase('vsc_bench');
  const suffix = randomBytes(3).toString('hex');
  const env = platformEnv(suffix, db.url);

  const dataConverter = vansalesDataConverter(env.VSC_PAYLOAD_KEYS);
  const silent = pino({ level: 'silent' });
  // The agent hop by itself: from the gateway's Worker handing the task to our proxy activity to
  // the agent's result back in it (WebSocket both ways, frame checks, audit record, agent dispatch).
  const hops: number[] = [];
  let timeHops = false;
  const hopTimer: ActivityInterceptorsFactory = () => ({
    inbound: {
      execute: async (input, next) => {
        const t0 = performance.now();
        const out = await next(input);
        if (timeHops) hops.push(performance.now() - t0);
        return out;
      },
    },
  });
  const gateway = await createGateway(
    loadGatewayConfig({
      ...env,
      ...(process.env.VSC_AGENT_MAX_POLLERS ? { VSC_AGENT_MAX_POLLERS: process.env.VSC_AGENT_MAX_POLLERS } : {}),
    }),
    silent as unknown as Logger,
    { activityInterceptors: [hopTimer] },
  );
  const address = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  const native = await NativeConnection.connect({ address: services.temporalAddress });
  const bundle = await bundleWorkflows();
  const cloudStamps: number[] = [];
  const agentStamps: number[] = [];
  const workers = [
    await Worker.create({
      connection: native,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.VSC_WORKFLOW_TASK_QUEUE,
      workflowBundle: bundle,
      // The bundle's tracing interceptors export through this sink (dropped: the benchmark does not trace).
      sinks: workflowTracingSinks(undefined),
      dataConverter,
    }),
    await Worker.create({
      connection: native,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.VSC_CLOUD_TASK_QUEUE,
      dataConverter,
      // The same body as the agent's ping, plus the timestamp the benchmark reads.
      activities: { cloudPing: async () => (cloudStamps.push(performance.now()), { from: 'cloud' }) },
      maxConcurrentActivityTaskExecutions: CONCURRENCY,
    }),
  ];
  const running = workers.map((w) => w.run());

  await gateway.services.tenants.create({ id: 'bench', name: 'Bench' });
  const connector = await gateway.services.connectors.create('bench', `site-${suffix}`);
  const agent = new Agent({
    config: parseAgentConfig({
      gatewayUrl: `${address.replace('http', 'ws')}/v1/agent/connect`,
      apiKey: connector.apiKey,
      concurrency: CONCURRENCY,
      identityKey: generateAgentKeyPair().privateKeyPem,
    }),
    log: process.env.BENCH_VERBOSE ? pino({ level: 'debug' }, process.stderr) : silent,
    operations: { 'agent.ping': async () => (agentStamps.push(performance.now()), { from: 'agent' }) },
  });
  const welcomed = new Promise<void>((resolve) => (agent.onWelcome = () => resolve()));
  agent.start();
  await welcomed;

  const clientConnection = await Connection.connect({ address: services.temporalAddress });
  const client = new Client({ connection: clientConnection, namespace: env.TEMPORAL_NAMESPACE, dataConverter });
  const placements = {
    cloud: { kind: 'cloud' as const, taskQueue: env.VSC_CLOUD_TASK_QUEUE },
    agent: { kind: 'connector' as const, connectorId: connector.id },
  };
  let lastWorkflowId = '';
  const run = async (path: keyof typeof placements, count: number, concurrency: number) => {
    const t0 = performance.now();
    lastWorkflowId = `bench-${path}-${randomBytes(4).toString('hex')}`;
    await client.workflow.execute(pingWorkflow, {
      taskQueue: env.VSC_WORKFLOW_TASK_QUEUE,
      workflowId: lastWorkflowId,
      args: [{ placement: placements[path], count, concurrency }],
    });
    return performance.now() - t0;
  };
  /** Median time of each step of the cycle, from the server's own event times (workflow task, dispatch, run). */
  const phases = async (workflowId: string) => {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const ms = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) =>
      Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
    const spans: Record<string, number[]> = {};
    const events = history.events ?? [];
    for (let i = 1; i < events.length; i++) {
      const type = (e: (typeof events)[number]) => EVENT_NAMES[Number(e.eventType)] ?? `event-${String(e.eventType)}`;
      const name = `${type(events[i - 1]!)} -> ${type(events[i]!)}`;
      (spans[name] ??= []).push(ms(events[i]!) - ms(events[i - 1]!));
    }
    return Object.fromEntries(
      Object.entries(spans)
        .filter(([, v]) => v.length > 10)
        .map(([k, v]) => [
          k,
          round(
            percentile(
              v.sort((a, b) => a - b),
              50,
            ),
          ),
        ]),
    );
  };
  const cycles = (stamps: number[]) =>
    stamps
      .slice(1)
      .map((t, i) => t - stamps[i]!)
      .sort((a, b) => a - b);

  try {
    for (const path of ['cloud', 'agent'] as const) {
      const ms = await run(path, 30, 1); // warm up both paths
      if (process.env.BENCH_VERBOSE) process.stderr.write(`warm-up ${path}: ${ms.toFixed(0)} ms\n`);
    }
    const figures: Record<string, { p50: number; p99: number; throughput: number }> = {};
    for (const path of ['cloud', 'agent'] as const) {
      const stamps = path === 'cloud' ? cloudStamps : agentStamps;
      stamps.length = 0;
      hops.length = 0;
      timeHops = path === 'agent';
      await run(path, SEQUENTIAL, 1);
      timeHops = false;
      const hop = [...hops].sort((a, b) => a - b);
      const c = cycles(stamps);
      const phaseMedians = await phases(lastWorkflowId);
      const parallelMs = await run(path, PARALLEL, CONCURRENCY);
      figures[path] = { p50: percentile(c, 50), p99: percentile(c, 99), throughput: PARALLEL / (parallelMs / 1000) };
      emit({
        bench: 'activity-overhead',
        path,
        sequential_activities: SEQUENTIAL,
        cycle_p50_ms: round(figures[path]!.p50),
        cycle_p99_ms: round(figures[path]!.p99),
        parallel_activities: PARALLEL,
        concurrency: CONCURRENCY,
        throughput_per_s: round(figures[path]!.throughput, 1),
        server_phase_p50_ms: phaseMedians,
        ...(path === 'agent'
          ? { hop_p50_ms: round(percentile(hop, 50)), hop_p99_ms: round(percentile(hop, 99)), hops_timed: hop.length }
          : {}),
      });
    }
    const added50 = figures.agent!.p50 - figures.cloud!.p50;
    const added99 = figures.agent!.p99 - figures.cloud!.p99;
    emit({
      bench: 'activity-overhead',
      added_p50_ms: round(added50),
      added_p99_ms: round(added99),
      target_added_p50_ms: 5,
      target_added_p99_ms: 20,
      throughput_ratio_agent_to_cloud: round(figures.agent!.throughput / figures.cloud!.throughput, 3),
    });
  } finally {
    await agent.stop();
    await gateway.close();
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await native.close();
    await clientConnection.close();
    await db.drop();
  }
}

void main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(
      `activity-overhead failed: ${err instanceof Error ? err.stack : String(err)}\ncause: ${String((err as { cause?: { cause?: unknown } }).cause?.cause ?? (err as { cause?: unknown }).cause)}\n`,
    );
    process.exit(1);
  },
);
