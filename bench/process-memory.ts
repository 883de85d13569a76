/**
 * Data-plane memory benchmark: the peak resident memory of each real process (the gateway, the
 * cloud worker and the agent, each the built `dist/main.js` in a child process of its own) while
 * a generated table of 1,000,000 rows and 10 columns moves three ways:
 *   - site-to-cloud: `dataSyncWorkflow` from the agent's MariaDB into a cloud PostgreSQL (the agent
 *     extracts into the buffer through the gateway, the cloud worker loads);
 *   - cloud-to-site: `dataSyncWorkflow` from that cloud table into a fresh MariaDB database on the
 *     agent (the cloud worker extracts, the agent loads from the buffer through the gateway);
 *   - same-site: `dataTransferWorkflow` from the agent's MariaDB into a PostgreSQL database of the
 *     same site (`mode: 'append'`; rows never leave the agent).
 * RSS of every process is sampled from /proc every 100 ms. Prints one JSON line per step and
 * process, and a summary against the 300 MB target; progress goes to stderr. Exits non-zero when a
 * destination does not hold the source's rows (it asserts nothing about memory: the figures are
 * the result). How to run: see bench/README.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { dataSyncWorkflow, dataTransferWorkflow } from '@vansales/workflows';
import { vansalesDataConverter } from '@vansales/temporal-config';
import {
  emit,
  freePort,
  freshDatabase,
  platformEnv,
  repoRoot,
  round,
  rssMb,
  services,
  cliOption,
  rowsOption,
} from './support';
import {
  checkTally,
  ensureGeneratedTable,
  mariadb,
  mariadbTally,
  pgAccess,
  pgTally,
  type Tally,
} from './generated-table';

const BENCH = 'process-memory';
const TARGET_MB = 300;
const SAMPLE_MS = 100;
const SOURCE_DATABASE = 'vsc_bench_mem';

const option = (name: string) => cliOption(name);
const ROWS = rowsOption();
const STEPS = ['site-to-cloud', 'cloud-to-site', 'same-site'] as const;
type StepName = (typeof STEPS)[number];
const only = option('only')?.split(',');
for (const s of only ?? [])
  if (!STEPS.includes(s as StepName)) throw new Error(`--only takes ${STEPS.join(',')}, not ${s}`);
// cloud-to-site reads what site-to-cloud wrote, so it brings that step along.
const runs = (s: StepName) => !only || only.includes(s) || (s === 'site-to-cloud' && only.includes('cloud-to-site'));
/** The table's name says its size, so a quick run does not throw away the full-size table. */
const TABLE = ROWS === 1_000_000 ? 'rows_1m' : `rows_${ROWS}`;
/** Extra node flags for the three processes (e.g. `--max-old-space-size=128`), to see what bounds them. */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
/** `BENCH_MEMLOG=1`: each process logs `process.memoryUsage()` (heap vs RSS) to stderr every second. */
const MEMLOG = !!process.env.BENCH_MEMLOG;
const verbose = !!process.env.BENCH_VERBOSE;
/**
 * `--cloud-worker split`: two cloud worker processes, one for workflows and one for cloud activities
 * (VSC_CLOUD_WORKER_ROLE), so the one that moves rows does not hold the workflow bundle.
 */
const CLOUD_WORKER = option('cloud-worker') ?? 'one';
if (CLOUD_WORKER !== 'one' && CLOUD_WORKER !== 'split')
  throw new Error(`--cloud-worker takes one or split, not ${CLOUD_WORKER}`);

const log = (msg: string) => process.stderr.write(`[bench ${BENCH}] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Verification: count and sum(id) at each destination against the source.

// ---------------------------------------------------------------------------------------------
// The three processes.

type ProcessName = 'gateway' | 'cloud-worker' | 'cloud-workflows' | 'cloud-activities' | 'agent';

interface Platform {
  procs: Map<ProcessName, ChildProcess>;
  tenantId: string;
  connectorId: string;
  workflowTaskQueue: string;
  cloudTaskQueue: string;
  temporal: Client;
  close(): Promise<void>;
}

/** A preloaded script that prints the process's heap figures every second (BENCH_MEMLOG=1). */
const MEMLOG_SCRIPT = `const mb = (n) => Math.round(n / 1048576);
setInterval(() => {
  const m = process.memoryUsage();
  process.stderr.write('[memlog ' + process.pid + '] rss ' + mb(m.rss) + ' heapUsed ' + mb(m.heapUsed) + ' heapTotal ' + mb(m.heapTotal) + ' external ' + mb(m.external) + ' arrayBuffers ' + mb(m.arrayBuffers) + '\\n');
}, 1000).unref();
`;

async function startPlatform(work: string, dbs: { warehouse: string; dst: string; load: string }): Promise<Platform> {
  const suffix = randomBytes(3).toString('hex');
  const tenantId = `bench-${suffix}`;
  const metadata = await freshDatabase('vsc_bench_mem_meta');
  const dir = mkdtempSync(join(work, 'platform-'));
  const port = await freePort();
  const gatewayUrl = `http://127.0.0.1:${port}`;
  // The cloud reaches the warehouse directly; the file is the operator's, 0600, as in production.
  const cloudDatabasesFile = join(dir, 'cloud-databases.json');
  writeFileSync(
    cloudDatabasesFile,
    JSON.stringify({ [tenantId]: { warehouse: { dialect: 'postgres', ...pgAccess(dbs.warehouse) } } }),
    { mode: 0o600 },
  );
  const memlog = join(dir, 'memlog.cjs');
  writeFileSync(memlog, MEMLOG_SCRIPT);
  const env: Record<string, string> = {
    ...platformEnv(suffix, metadata.url),
    VSC_GATEWAY_PORT: String(port),
    VSC_BUFFER_STORE: 'local',
    VSC_BUFFER_DIR: join(dir, 'buffer'),
    VSC_CLOUD_DATABASES_FILE: cloudDatabasesFile,
    VSC_LOG_LEVEL: verbose ? 'info' : 'warn',
    // The namespace's one purge schedule is not this benchmark's to change.
    VSC_BUFFER_PURGE_MINUTES: '0',
    ...(process.env.VSC_TEST_WORKFLOW_BUNDLE ? { VSC_WORKFLOW_BUNDLE: process.env.VSC_TEST_WORKFLOW_BUNDLE } : {}),
  };

  const procs = new Map<ProcessName, ChildProcess>();
  const output: string[] = [];
  const start = (name: ProcessName, script: string, argv: string[] = [], extraEnv: Record<string, string> = {}) => {
    const nodeArgs = [...NODE_ARGS, ...(MEMLOG ? ['--require', memlog] : [])];
    const child = spawn(process.execPath, [...nodeArgs, join(repoRoot, script), ...argv], {
      env: { ...process.env, ...env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => {
      const text = d.toString();
      output.push(`[${name}] ${text}`);
      if (output.length > 200) output.shift();
      if (verbose || (MEMLOG && text.startsWith('[memlog'))) process.stderr.write(`[${name}] ${text}`);
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
  let closing = false;
  const until = async (what: string, probe: () => Promise<boolean>, ms = 120_000) => {
    const deadline = Date.now() + ms;
    while (!(await probe())) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; last output:\n${output.slice(-20).join('')}`);
      await sleep(100);
    }
  };

  start('gateway', 'gateway/dist/main.js');
  await until('the gateway to listen', async () => {
    if (procs.get('gateway')!.exitCode !== null) throw new Error(`the gateway exited; its output:\n${output.join('')}`);
    return fetch(`${gatewayUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
  });
  if (CLOUD_WORKER === 'split') {
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

  // The agent's config and, beside it, the site's policy: loads may write to `load` and `dst`.
  const agentConfig = join(dir, 'agent.json');
  writeFileSync(
    agentConfig,
    JSON.stringify({
      gatewayUrl: `${gatewayUrl.replace('http', 'ws')}/v1/agent/connect`,
      apiKey: connector.apiKey,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
      logLevel: verbose ? 'info' : 'warn',
      auditLogPath: join(dir, 'audit.jsonl'),
      databases: {
        erp: { dialect: 'mysql', ...services.mariadb, database: SOURCE_DATABASE },
        load: { dialect: 'mysql', ...services.mariadb, database: dbs.load },
        dst: { dialect: 'postgres', ...pgAccess(dbs.dst) },
      },
    }),
    { mode: 0o600 },
  );
  writeFileSync(
    join(dir, 'policy.json'),
    JSON.stringify({
      writableTables: [
        { database: 'load', table: '*' },
        { database: 'dst', table: '*' },
      ],
    }),
    { mode: 0o600 },
  );
  start('agent', 'connector-agent/dist/main.js', ['run', '--config', agentConfig]);

  const clientConnection = await Connection.connect({ address: services.temporalAddress });
  const temporal = new Client({
    connection: clientConnection,
    namespace: services.temporalNamespace,
    dataConverter: vansalesDataConverter(env.VSC_PAYLOAD_KEYS!),
  });

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
    `platform up: gateway ${gatewayUrl} (pid ${procs.get('gateway')!.pid}), cloud worker pids ${[...procs]
      .filter(([n]) => n.startsWith('cloud'))
      .map(([n, c]) => `${n} ${c.pid}`)
      .join(', ')}, agent pid ${procs.get('agent')!.pid}, tenant ${tenantId}`,
  );

  return {
    procs,
    tenantId,
    connectorId: connector.id,
    workflowTaskQueue: env.VSC_WORKFLOW_TASK_QUEUE!,
    cloudTaskQueue: env.VSC_CLOUD_TASK_QUEUE!,
    temporal,
    async close() {
      closing = true;
      await Promise.all(
        [...procs.values()].map(async (c) => {
          if (c.exitCode !== null || c.signalCode !== null) return;
          const exited = new Promise((r) => c.once('exit', r));
          c.kill('SIGTERM');
          const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }),
      );
      await clientConnection.close();
      await metadata.drop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Sampling.

interface Sample {
  idle: number;
  peak: number;
}

/**
 * RSS of every process while `fn` runs, every 100 ms. `idleRssMb` is each process's RSS over the
 * second before the step (the median of its samples): what it holds when no rows move.
 */
async function sampled<T>(
  platform: Platform,
  fn: () => Promise<T>,
): Promise<{ value: T; seconds: number; rss: Map<ProcessName, Sample> }> {
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
  const rss = new Map<ProcessName, Sample>(
    names.map((n) => {
      const s = before.get(n)!.sort((a, b) => a - b);
      const idle = s[Math.floor(s.length / 2)]!;
      return [n, { idle, peak: idle }];
    }),
  );
  const sample = () => {
    for (const n of names) rss.get(n)!.peak = Math.max(rss.get(n)!.peak, read(n));
  };
  const timer = setInterval(sample, SAMPLE_MS);
  const t0 = performance.now();
  try {
    const value = await fn();
    sample();
    return { value, seconds: (performance.now() - t0) / 1000, rss };
  } finally {
    clearInterval(timer);
  }
}

/** The workflow's result; gives up (terminating it) when an activity keeps failing. */
async function resultWatched(handle: WorkflowHandle, label: string): Promise<unknown> {
  let done = false;
  const watch = async (): Promise<never> => {
    for (;;) {
      await sleep(2000);
      if (done) return new Promise<never>(() => undefined);
      const described = await handle.describe().catch(() => undefined);
      for (const a of described?.raw.pendingActivities ?? []) {
        const attempt = a.attempt ?? 1;
        if (attempt > 1)
          log(
            `${label}: ${a.activityType?.name} is on attempt ${attempt} (last failure: ${a.lastFailure?.message ?? '?'})`,
          );
        if (attempt >= 3) {
          await handle
            .terminate(`benchmark: ${a.activityType?.name} failed ${attempt - 1} times`)
            .catch(() => undefined);
          throw new Error(
            `${label}: ${a.activityType?.name} failed ${attempt - 1} times; a retried step's memory is no figure`,
          );
        }
      }
    }
  };
  try {
    return await Promise.race([handle.result(), watch()]);
  } finally {
    done = true;
  }
}

const results: { step: StepName; process: ProcessName; peakRssMb: number }[] = [];

async function step(
  platform: Platform,
  name: StepName,
  start: () => Promise<WorkflowHandle>,
  verify: () => Promise<Tally>,
  want: Tally,
): Promise<void> {
  log(`${name}: starting`);
  const { seconds, rss } = await sampled(platform, async () => resultWatched(await start(), name));
  const got = await verify();
  checkTally(name, got, want);
  for (const [proc, s] of rss) {
    emit({
      bench: BENCH,
      step: name,
      process: proc,
      peakRssMb: round(s.peak, 1),
      idleRssMb: round(s.idle, 1),
      rows: got.rows,
      seconds: round(seconds, 2),
    });
    results.push({ step: name, process: proc, peakRssMb: round(s.peak, 1) });
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'vsc-bench-procmem-'));
  const cleanups: (() => Promise<void>)[] = [];
  try {
    await ensureGeneratedTable(SOURCE_DATABASE, TABLE, ROWS, log);
    const want = await mariadbTally(SOURCE_DATABASE, TABLE);
    const warehouse = await freshDatabase('vsc_bench_mem_dw');
    cleanups.push(warehouse.drop);
    const dst = await freshDatabase('vsc_bench_mem_dst');
    cleanups.push(dst.drop);
    const load = `vsc_bench_mem_load_${randomBytes(4).toString('hex')}`;
    const conn = await mariadb();
    await conn.query(`CREATE DATABASE ${load} CHARACTER SET utf8mb4`);
    await conn.end();
    cleanups.push(async () => {
      const c = await mariadb();
      await c.query(`DROP DATABASE IF EXISTS ${load}`);
      await c.end();
    });

    const platform = await startPlatform(work, { warehouse: warehouse.name, dst: dst.name, load });
    cleanups.push(() => platform.close());
    const id = () => randomBytes(4).toString('hex');

    if (runs('site-to-cloud')) {
      await step(
        platform,
        'site-to-cloud',
        () =>
          platform.temporal.workflow.start(dataSyncWorkflow, {
            taskQueue: platform.workflowTaskQueue,
            workflowId: `bench-mem-s2c-${id()}`,
            args: [
              {
                tenantId: platform.tenantId,
                source: { placement: 'connector', connectorId: platform.connectorId, database: 'erp' },
                destination: { placement: 'cloud', database: 'warehouse' },
                tables: [{ source: { name: TABLE } }],
                maxRuns: 1,
                cloudTaskQueue: platform.cloudTaskQueue,
              },
            ],
          }),
        () => pgTally(warehouse.name, TABLE),
        want,
      );
    }
    if (runs('cloud-to-site')) {
      await step(
        platform,
        'cloud-to-site',
        () =>
          platform.temporal.workflow.start(dataSyncWorkflow, {
            taskQueue: platform.workflowTaskQueue,
            workflowId: `bench-mem-c2s-${id()}`,
            args: [
              {
                tenantId: platform.tenantId,
                source: { placement: 'cloud', database: 'warehouse' },
                destination: { placement: 'connector', connectorId: platform.connectorId, database: 'load' },
                tables: [{ source: { name: TABLE } }],
                maxRuns: 1,
                cloudTaskQueue: platform.cloudTaskQueue,
              },
            ],
          }),
        () => mariadbTally(load, TABLE),
        want,
      );
    }
    if (runs('same-site')) {
      await step(
        platform,
        'same-site',
        () =>
          platform.temporal.workflow.start(dataTransferWorkflow, {
            taskQueue: platform.workflowTaskQueue,
            workflowId: `bench-mem-transfer-${id()}`,
            args: [
              {
                tenantId: platform.tenantId,
                connectorId: platform.connectorId,
                transfer: {
                  source: { database: 'erp', table: { name: TABLE } },
                  destination: { database: 'dst', table: { name: TABLE } },
                  mode: 'append',
                },
              },
            ],
          }),
        () => pgTally(dst.name, TABLE),
        want,
      );
    }

    const worst = results.reduce((a, b) => (b.peakRssMb > a.peakRssMb ? b : a), results[0]!);
    const perProcess: Record<string, number> = {};
    for (const r of results) perProcess[r.process] = Math.max(perProcess[r.process] ?? 0, r.peakRssMb);
    emit({
      bench: BENCH,
      rows: want.rows,
      peakRssMbByProcess: perProcess,
      worst: { step: worst.step, process: worst.process, peakRssMb: worst.peakRssMb },
      targetMb: TARGET_MB,
      withinTarget: results.every((r) => r.peakRssMb <= TARGET_MB),
      ...(NODE_ARGS.length ? { nodeArgs: NODE_ARGS.join(' ') } : {}),
    });
  } finally {
    for (const c of cleanups.reverse()) await c().catch((err: Error) => log(`cleanup: ${err.message}`));
    rmSync(work, { recursive: true, force: true });
  }
}

void main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${BENCH} failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
