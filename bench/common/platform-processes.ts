/**
 * The platform as it runs in production, for the data-plane benchmarks: the gateway, the cloud
 * worker and the agent, each its built `dist/main.js` in a child process of its own (so each has
 * its own JavaScript thread and its own heap), with the crash test's env: a local buffer folder,
 * buffer and payload keys, a cloud databases file, `VSC_BUFFER_PURGE_MINUTES=0`. The cloud worker
 * loads a workflow bundle made once by this process (as the build's bundle is in production), so its
 * figures are not those of webpack bundling at start. RSS of every process can be sampled while a
 * step runs (`sampledRss`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection, type DataConverter } from '@temporalio/client';
import { bundleWorkflows } from '@vansales/cloud-worker';
import { YOUNG_GENERATION_FLAGS } from '@vansales/protocol';
import { vansalesDataConverter } from '@vansales/temporal-config';
import {
  cpuSeconds,
  freePort,
  freshDatabase,
  platformEnv,
  repoRoot,
  rssMb,
  serviceCpuSeconds,
  services,
} from '../support';

export type ProcessName = 'gateway' | 'cloud-worker' | 'cloud-workflows' | 'cloud-activities' | 'agent';

/** A database one of the processes reaches, as the agent's config or the cloud databases file take it. */
export type DatabaseAccess = { dialect: 'mysql' | 'postgres' } & Record<string, unknown>;

export interface PlatformOptions {
  /** Prefix of the throwaway metadata database. */
  label: string;
  /** The agent's configured databases by name. */
  agentDatabases: Record<string, DatabaseAccess>;
  /** The agent's databases its site policy lets loads write to. */
  writable: string[];
  /** The databases the cloud worker reaches directly, by name (this tenant's). */
  cloudDatabases: Record<string, DatabaseAccess>;
  /** `split`: a workflows-only and an activities-only cloud worker (VSC_CLOUD_WORKER_ROLE). */
  cloudWorker?: 'one' | 'split';
  /** Node flags of the three processes (e.g. `--cpu-prof --cpu-prof-dir=…`, `--max-old-space-size=…`). */
  nodeArgs?: string[];
  /** Environment every process gets on top of the platform's. */
  env?: Record<string, string>;
  /** Environment of one process on top of that (ports of its own: metrics). */
  processEnv?: Partial<Record<ProcessName, Record<string, string>>>;
  /** More settings of the agent's agent.json (e.g. `metrics`). */
  agentConfig?: Record<string, unknown>;
  /** Each process logs `process.memoryUsage()` to stderr every second. */
  memlog?: boolean;
  verbose?: boolean;
  log(msg: string): void;
}

export interface ProcessPlatform {
  procs: Map<ProcessName, ChildProcess>;
  /** http://127.0.0.1:<port> of the gateway, and the operator's token for it. */
  gatewayUrl: string;
  adminToken: string;
  tenantId: string;
  connectorId: string;
  workflowTaskQueue: string;
  cloudTaskQueue: string;
  temporal: Client;
  dataConverter: DataConverter;
  close(): Promise<void>;
}

/** A preloaded script that prints the process's heap figures every second. */
const MEMLOG_SCRIPT = `const mb = (n) => Math.round(n / 1048576);
setInterval(() => {
  const m = process.memoryUsage();
  process.stderr.write('[memlog ' + process.pid + '] rss ' + mb(m.rss) + ' heapUsed ' + mb(m.heapUsed) + ' heapTotal ' + mb(m.heapTotal) + ' external ' + mb(m.external) + ' arrayBuffers ' + mb(m.arrayBuffers) + '\\n');
}, 1000).unref();
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let bundlePath: Promise<string> | undefined;
/** The workflow bundle, made once per benchmark run (or the test run's, when given). */
function workflowBundle(work: string): Promise<string> {
  const given = process.env.VSC_TEST_WORKFLOW_BUNDLE;
  if (given) return Promise.resolve(given);
  bundlePath ??= bundleWorkflows().then((bundle) => {
    const path = join(work, 'workflow-bundle.js');
    writeFileSync(path, bundle.code);
    return path;
  });
  return bundlePath;
}

export async function startPlatformProcesses(work: string, options: PlatformOptions): Promise<ProcessPlatform> {
  const { log, verbose = false, memlog = false, nodeArgs = [] } = options;
  const suffix = randomBytes(3).toString('hex');
  const tenantId = `bench-${suffix}`;
  const bundle = await workflowBundle(work);
  const metadata = await freshDatabase(options.label);
  const dir = mkdtempSync(join(work, 'platform-'));
  const port = await freePort();
  const gatewayUrl = `http://127.0.0.1:${port}`;
  // The cloud reaches its databases directly; the file is the operator's, 0600, as in production.
  const cloudDatabasesFile = join(dir, 'cloud-databases.json');
  writeFileSync(cloudDatabasesFile, JSON.stringify({ [tenantId]: options.cloudDatabases }), { mode: 0o600 });
  const memlogFile = join(dir, 'memlog.cjs');
  writeFileSync(memlogFile, MEMLOG_SCRIPT);
  const env: Record<string, string> = {
    ...platformEnv(suffix, metadata.url),
    VSC_GATEWAY_PORT: String(port),
    VSC_BUFFER_STORE: 'local',
    VSC_BUFFER_DIR: join(dir, 'buffer'),
    VSC_CLOUD_DATABASES_FILE: cloudDatabasesFile,
    VSC_LOG_LEVEL: verbose ? 'info' : 'warn',
    // The namespace's one purge schedule is not a benchmark's to change.
    VSC_BUFFER_PURGE_MINUTES: '0',
    VSC_WORKFLOW_BUNDLE: bundle,
    // As `./vsc up` starts them (infra/src/services/platform.ts, nativeMemoryEnv): two malloc arenas,
    // and large blocks always mapped (freed buffers leave the process).
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
    MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072',
    ...options.env,
  };

  const procs = new Map<ProcessName, ChildProcess>();
  const output: string[] = [];
  let closing = false;
  const start = (name: ProcessName, script: string, argv: string[] = [], extraEnv: Record<string, string> = {}) => {
    // As `./vsc up` starts them (infra/src/services/platform.ts); BENCH_NODE_ARGS, after, can override.
    const args = [...YOUNG_GENERATION_FLAGS, ...nodeArgs, ...(memlog ? ['--require', memlogFile] : [])];
    const child = spawn(process.execPath, [...args, join(repoRoot, script), ...argv], {
      env: { ...process.env, ...env, ...extraEnv, ...options.processEnv?.[name] },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => {
      const text = d.toString();
      output.push(`[${name}] ${text}`);
      if (output.length > 200) output.shift();
      if (verbose || (memlog && text.startsWith('[memlog'))) process.stderr.write(`[${name}] ${text}`);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('exit', (code, signal) => {
      if (procs.get(name) === child && !closing)
        log(
          `${name} exited (${code ?? signal}); its last output:\n${output
            .filter((l) => l.startsWith(`[${name}]`))
            .slice(-20)
            .join('')}`,
        );
    });
    procs.set(name, child);
    return child;
  };
  const until = async (what: string, probe: () => Promise<boolean>, ms = 180_000) => {
    const deadline = Date.now() + ms;
    while (!(await probe())) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; last output:\n${output.slice(-20).join('')}`);
      await sleep(100);
    }
  };
  const close = async () => {
    closing = true;
    // SIGTERM: each main drains and exits by itself, so a `--cpu-prof` profile gets written.
    await Promise.all(
      [...procs.values()].map(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await metadata.drop();
  };

  try {
    start('gateway', 'gateway/dist/main.js');
    await until('the gateway to listen', async () => {
      if (procs.get('gateway')!.exitCode !== null)
        throw new Error(`the gateway exited; its output:\n${output.join('')}`);
      return fetch(`${gatewayUrl}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
    });
    if (options.cloudWorker === 'split') {
      start('cloud-workflows', 'cloud-worker/dist/main.js', [], { VSC_CLOUD_WORKER_ROLE: 'workflows' });
      start('cloud-activities', 'cloud-worker/dist/main.js', [], { VSC_CLOUD_WORKER_ROLE: 'activities' });
    } else start('cloud-worker', 'cloud-worker/dist/main.js');

    // Tenant and connector through the REST API, as an operator makes them.
    const api = async <T>(path: string, body: unknown): Promise<T> => {
      const res = await fetch(`${gatewayUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${env.VSC_ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    await api('/v1/tenants', { id: tenantId, name: 'Bench' });
    const connector = await api<{ id: string; apiKey: string }>(`/v1/tenants/${tenantId}/connectors`, {
      name: `site-${suffix}`,
    });

    // The agent's config and, beside it, the site's policy.
    const agentConfig = join(dir, 'agent.json');
    writeFileSync(
      agentConfig,
      JSON.stringify({
        gatewayUrl: `${gatewayUrl.replace('http', 'ws')}/v1/agent/connect`,
        apiKey: connector.apiKey,
        reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
        logLevel: verbose ? 'info' : 'warn',
        auditLogPath: join(dir, 'audit.jsonl'),
        databases: options.agentDatabases,
        ...options.agentConfig,
      }),
      { mode: 0o600 },
    );
    writeFileSync(
      join(dir, 'policy.json'),
      JSON.stringify({ writableTables: options.writable.map((database) => ({ database, table: '*' })) }),
      { mode: 0o600 },
    );
    start('agent', 'connector-agent/dist/main.js', ['run', '--config', agentConfig]);

    const clientConnection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
    const dataConverter = vansalesDataConverter(env.VSC_PAYLOAD_KEYS!);
    const temporal = new Client({ connection: clientConnection, namespace: env.TEMPORAL_NAMESPACE!, dataConverter });

    // The agent is online once the gateway's connector list says so.
    await until('the agent to connect', async () => {
      const res = await fetch(`${gatewayUrl}/v1/tenants/${tenantId}/connectors`, {
        headers: { authorization: `Bearer ${env.VSC_ADMIN_TOKEN}` },
      }).catch(() => undefined);
      if (!res?.ok) return false;
      const list = (await res.json()) as { id: string; online: boolean }[];
      return list.some((c) => c.id === connector.id && c.online);
    });
    log(
      `platform up: ${[...procs].map(([n, c]) => `${n} pid ${c.pid}`).join(', ')}; gateway ${gatewayUrl}, tenant ${tenantId}`,
    );
    return {
      procs,
      gatewayUrl,
      adminToken: env.VSC_ADMIN_TOKEN!,
      tenantId,
      connectorId: connector.id,
      workflowTaskQueue: env.VSC_WORKFLOW_TASK_QUEUE!,
      cloudTaskQueue: env.VSC_CLOUD_TASK_QUEUE!,
      temporal,
      dataConverter,
      async close() {
        await close();
        await clientConnection.close();
      },
    };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

export interface RssSample {
  /** Median RSS over the second before the step: what the process holds when no rows move. */
  idle: number;
  peak: number;
}

/**
 * RSS of every process of the platform while `fn` runs, sampled from /proc every 100 ms, and the CPU
 * seconds each used meanwhile, with the databases' and other services' (on 2 cores the paths are
 * bound by the sum: where the CPU goes says what to cut).
 */
export async function sampledRss<T>(
  platform: Pick<ProcessPlatform, 'procs'>,
  fn: () => Promise<T>,
): Promise<{ value: T; seconds: number; rss: Map<ProcessName, RssSample>; cpuSeconds: Record<string, number> }> {
  const SAMPLE_MS = 100;
  const read = (name: ProcessName) => {
    const pid = platform.procs.get(name)!.pid!;
    try {
      return rssMb(pid);
    } catch {
      return 0; // Gone (it crashed): the exit is logged; the figure stays what was seen.
    }
  };
  const names = [...platform.procs.keys()];
  const before = new Map<ProcessName, number[]>(names.map((n) => [n, []]));
  for (let i = 0; i < 10; i++) {
    for (const n of names) before.get(n)!.push(read(n));
    await sleep(SAMPLE_MS);
  }
  const rss = new Map<ProcessName, RssSample>(
    names.map((n) => {
      const s = before.get(n)!.sort((a, b) => a - b);
      const idle = s[Math.floor(s.length / 2)]!;
      return [n, { idle, peak: idle }];
    }),
  );
  const sample = () => {
    for (const n of names) rss.get(n)!.peak = Math.max(rss.get(n)!.peak, read(n));
  };
  const cpuNow = () => {
    const out: Record<string, number> = serviceCpuSeconds(services.stateDir);
    for (const n of names) {
      try {
        out[n] = cpuSeconds(platform.procs.get(n)!.pid!);
      } catch {
        out[n] = 0;
      }
    }
    return out;
  };
  const cpu0 = cpuNow();
  const timer = setInterval(sample, SAMPLE_MS);
  const t0 = performance.now();
  try {
    const value = await fn();
    sample();
    const cpu1 = cpuNow();
    const cpuSpent = Object.fromEntries(
      Object.entries(cpu1).map(([k, v]) => [k, Math.round((v - (cpu0[k] ?? 0)) * 100) / 100]),
    );
    return { value, seconds: (performance.now() - t0) / 1000, rss, cpuSeconds: cpuSpent };
  } finally {
    clearInterval(timer);
  }
}
