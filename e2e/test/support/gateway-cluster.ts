import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { throwawayPostgresDatabase } from '@vansales/test-kit';
import { newPayloadKeySpec } from '@vansales/temporal-config';
import { newBufferKeySpec } from '@vansales/buffer';
import { services, until } from './harness';

const repoRoot = join(__dirname, '..', '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A redis-server of the test's own (password in a 0600 config file, no persistence), so the test
 * can stop and start it without disturbing the shared test services.
 */
export async function startPrivateRedis(): Promise<{
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  client(): Redis;
  close(): Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-redis-'));
  const port = await freePort();
  const password = randomBytes(18).toString('base64url');
  const conf = join(dir, 'redis.conf');
  writeFileSync(
    conf,
    [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `requirepass ${password}`, "save ''", 'appendonly no'].join('\n'),
    { mode: 0o600 },
  );
  const url = `redis://:${password}@127.0.0.1:${port}/0`;
  let child: ChildProcess | undefined;
  const clients: Redis[] = [];
  const start = async () => {
    child = spawn('redis-server', [conf], { stdio: 'ignore' });
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    await until('the private redis-server to answer', async () => {
      try {
        if (probe.status !== 'ready') await probe.connect();
        return (await probe.ping()) === 'PONG';
      } catch {
        probe.disconnect();
        return false;
      }
    });
    probe.disconnect();
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url,
    start,
    stop,
    client() {
      const c = new Redis(url, { maxRetriesPerRequest: 1 });
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.disconnect();
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface GatewayNode {
  url: string;
  wsUrl: string;
  process: ChildProcess;
  logs: string[];
}

/**
 * N built gateway processes (gateway/dist, as `./vsc test` builds it) on their own ports, sharing one
 * PostgreSQL metadata store, Temporal, a buffer folder and the given Redis: a gateway cluster.
 */
export async function startGatewayCluster(options: {
  nodes: number;
  redisUrl: string;
  /** More gateway settings, for every node. */
  env?: Record<string, string>;
}): Promise<{
  nodes: GatewayNode[];
  env: Record<string, string>;
  adminToken: string;
  api<T = unknown>(
    node: GatewayNode,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}> {
  // Its own login, not a superuser, as ./vsc up gives the gateway: row-level security applies.
  const db = await throwawayPostgresDatabase('vsc_cluster', { ownLogin: true });
  const bufferDir = mkdtempSync(join(tmpdir(), 'vsc-cluster-buffer-'));
  const adminToken = randomBytes(32).toString('base64url');
  const env: Record<string, string> = {
    VSC_ADMIN_TOKEN: adminToken,
    TEMPORAL_ADDRESS: services.temporalAddress,
    TEMPORAL_NAMESPACE: services.temporalNamespace,
    VSC_WORKFLOW_TASK_QUEUE: `workflows-${randomBytes(4).toString('hex')}`,
    VSC_CLOUD_TASK_QUEUE: `cloud-${randomBytes(4).toString('hex')}`,
    VSC_CONTROL_TASK_QUEUE: `control-${randomBytes(4).toString('hex')}`,
    DATABASE_URL: db.url,
    VSC_REDIS_URL: options.redisUrl,
    VSC_PAYLOAD_KEYS: newPayloadKeySpec('cluster'),
    VSC_BUFFER_STORE: 'local',
    VSC_BUFFER_DIR: bufferDir,
    VSC_BUFFER_KEYS: newBufferKeySpec('cluster'),
    VSC_BUFFER_TOKEN_SECRET: randomBytes(32).toString('base64'),
    // The namespace's one purge schedule is not this test's to change.
    VSC_BUFFER_PURGE_MINUTES: '0',
    VSC_LOG_LEVEL: 'info',
    ...(process.env.VSC_TEST_WORKFLOW_BUNDLE ? { VSC_WORKFLOW_BUNDLE: process.env.VSC_TEST_WORKFLOW_BUNDLE } : {}),
    ...options.env,
  };
  const nodes: GatewayNode[] = [];
  const startNode = async (index: number) => {
    const port = await freePort();
    const logs: string[] = [];
    const child = spawn(process.execPath, [join(repoRoot, 'gateway/dist/main.js')], {
      env: { ...process.env, ...env, VSC_GATEWAY_PORT: String(port), VSC_GATEWAY_NODE_ID: `node-${index + 1}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => logs.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
    const url = `http://127.0.0.1:${port}`;
    await until(
      `gateway node ${index + 1} to listen`,
      async () => {
        if (child.exitCode !== null) throw new Error(`gateway node ${index + 1} exited: ${logs.join('')}`);
        return fetch(`${url}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
      },
      60_000,
    );
    nodes.push({ url, wsUrl: `${url.replace('http', 'ws')}/v1/agent/connect`, process: child, logs });
  };
  // One at a time: the first one migrates the shared metadata store.
  for (let i = 0; i < options.nodes; i++) await startNode(i);
  return {
    nodes,
    env,
    adminToken,
    async api(node, method, path, body) {
      const res = await fetch(`${node.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as never };
    },
    async close() {
      await Promise.all(
        nodes.map(async (n) => {
          if (n.process.exitCode !== null) return;
          const exited = new Promise((r) => n.process.once('exit', r));
          n.process.kill('SIGTERM');
          await exited;
        }),
      );
      await db.drop();
      rmSync(bufferDir, { recursive: true, force: true });
    },
  };
}
