/**
 * Agents per gateway: N simulated agents on one real gateway process, each with its own
 * activity-only Temporal Worker (one poller). Prints RSS and idle CPU as JSON lines, with the
 * same gateway holding no agents as the baseline, and checks that the Workers really poll by
 * routing workflows to a sample of agents.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { newBufferKeySpec } from '@vansales/buffer';
import { newPayloadKeySpec } from '@vansales/temporal-config';
import { createGatewayAuth } from '@vansales/connector-agent';
import { generateAgentKeyPair } from '@vansales/protocol';
import {
  services,
  emit,
  freePort,
  freshDatabase,
  startProcess,
  waitFor,
  rssMb,
  idleCpuPercent,
  idleCpuByThread,
  round,
} from './support';

const AGENTS = Number(process.env.AGENTS ?? 1000);
// 70 s: longer than the server's long-poll expiry (60 s), so every Worker renews its poll at least once in the window.
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 70);
const CONNECT_CONCURRENCY = 50;
/** What each simulated agent declares in its hello: the real agent's default (connector-agent config). */
const AGENT_CONCURRENCY = Number(process.env.AGENT_CONCURRENCY ?? 4);

async function main(): Promise<void> {
  const db = await freshDatabase('vsc_bench');
  const port = await freePort();
  const adminToken = randomBytes(32).toString('base64url');
  const queue = `workflows-bench-${randomBytes(3).toString('hex')}`;
  const temporalEnv = {
    TEMPORAL_ADDRESS: services.temporalAddress,
    TEMPORAL_NAMESPACE: services.temporalNamespace,
    VSC_WORKFLOW_TASK_QUEUE: queue,
    VSC_PAYLOAD_KEYS: newPayloadKeySpec('bench'),
  };
  const gateway = startProcess('gateway/dist/main.js', {
    ...temporalEnv,
    VSC_GATEWAY_PORT: String(port),
    VSC_ADMIN_TOKEN: adminToken,
    VSC_BUFFER_KEYS: newBufferKeySpec('bench'),
    VSC_BUFFER_TOKEN_SECRET: randomBytes(32).toString('base64'),
    DATABASE_URL: db.url,
    VSC_REDIS_URL: services.redisUrl,
    VSC_LOG_LEVEL: 'warn',
  });
  const worker = startProcess('cloud-worker/dist/main.js', temporalEnv);
  const base = `http://127.0.0.1:${port}`;
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return (await res.json()) as T;
  };
  const sockets: WebSocket[] = [];
  try {
    await waitFor('gateway', async () => (await fetch(`${base}/healthz`)).ok, 60_000);
    await new Promise((r) => setTimeout(r, 3000));
    const pid = gateway.pid!;
    const baselineRss = rssMb(pid);
    const baselineCpu = await idleCpuPercent(pid, Math.min(IDLE_SECONDS, 10));

    await api('POST', '/v1/tenants', { id: 'bench', name: 'Bench' });
    const connectors: { id: string; apiKey: string }[] = [];
    for (let i = 0; i < AGENTS; i++)
      connectors.push(await api('POST', '/v1/tenants/bench/connectors', { name: `site-${i}` }));

    const t0 = Date.now();
    const connect = async (c: { id: string; apiKey: string }) => {
      // Each simulated agent proves its own key pair, as a real one does (challenge, enrolment).
      const headers = await createGatewayAuth({
        gatewayUrl: `ws://127.0.0.1:${port}/v1/agent/connect`,
        apiKey: c.apiKey,
        identityKey: generateAgentKeyPair().privateKeyPem,
      }).connectHeaders();
      return new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/agent/connect`, { headers });
        sockets.push(ws);
        ws.on('open', () =>
          ws.send(
            JSON.stringify({
              type: 'hello',
              protocolVersion: 1,
              agentVersion: 'bench',
              machineId: `m-${c.id}`,
              capabilities: ['sql.query'],
              concurrency: AGENT_CONCURRENCY,
              databases: ['db'],
            }),
          ),
        );
        ws.on('message', (data) => {
          const frame = JSON.parse(data.toString()) as { type: string; taskId?: string; nonce?: string };
          if (frame.type === 'welcome') resolve();
          if (frame.type === 'ping') ws.send(JSON.stringify({ type: 'pong', nonce: frame.nonce }));
          if (frame.type === 'task')
            ws.send(
              JSON.stringify({
                type: 'result',
                taskId: frame.taskId,
                output: { columns: [], rows: [[c.id]], rowCount: 1, truncated: false },
              }),
            );
        });
        ws.on('error', reject);
      });
    };
    for (let i = 0; i < connectors.length; i += CONNECT_CONCURRENCY)
      await Promise.all(connectors.slice(i, i + CONNECT_CONCURRENCY).map(connect));
    await waitFor(
      'all agents online',
      async () => (await api<{ agentsConnected: number }>('GET', '/healthz')).agentsConnected === AGENTS,
      120_000,
    );
    const connectSeconds = (Date.now() - t0) / 1000;

    // The Workers poll for real: route a workflow to a sample of agents and check each answer.
    const sample = [0, Math.floor(AGENTS / 2), AGENTS - 1].map((i) => connectors[i]!);
    for (const c of sample) {
      const out = await api<{ result?: { rows: unknown[][] } }>('POST', '/v1/tenants/bench/queries', {
        connectorId: c.id,
        database: 'db',
        sql: 'SELECT 1',
      });
      if (JSON.stringify(out.result?.rows) !== JSON.stringify([[c.id]]))
        throw new Error(`agent ${c.id} did not answer its own task: ${JSON.stringify(out)}`);
    }

    await new Promise((r) => setTimeout(r, 5000));
    const rss = rssMb(pid);
    const { total: cpu, byThread } = await idleCpuByThread(pid, IDLE_SECONDS);
    emit({
      bench: 'agents-per-gateway',
      agents: AGENTS,
      connect_seconds: round(connectSeconds),
      rss_mb: round(rss),
      rss_baseline_mb: round(baselineRss),
      per_agent_kb: round(((rss - baselineRss) * 1024) / AGENTS),
      idle_cpu_pct_of_core: round(cpu),
      idle_cpu_baseline_pct: round(baselineCpu),
      idle_cpu_pct_by_thread: byThread,
      idle_window_s: IDLE_SECONDS,
      agent_concurrency: AGENT_CONCURRENCY,
      target_rss_mb: 600,
      target_idle_cpu_pct: 5,
      rss_ratio_to_target: round(rss / 600, 3),
      cpu_ratio_to_target: round(cpu / 5, 3),
      routed_sample_ok: sample.length,
    });
  } finally {
    for (const ws of sockets) ws.terminate();
    gateway.kill('SIGTERM');
    worker.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 2000));
    await db.drop();
  }
}

void main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`agents-per-gateway failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
