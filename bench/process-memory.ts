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
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type WorkflowHandle } from '@temporalio/client';
import { dataSyncWorkflow, dataTransferWorkflow } from '@vansales/workflows';
import { emit, freshDatabase, round, services, cliOption, rowsOption } from './support';
import {
  sampledRss,
  startPlatformProcesses,
  type ProcessName,
  type ProcessPlatform as Platform,
} from './common/platform-processes';
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
  const { seconds, rss } = await sampledRss(platform, async () => resultWatched(await start(), name));
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

    const platform = await startPlatformProcesses(work, {
      label: 'vsc_bench_mem_meta',
      agentDatabases: {
        erp: { dialect: 'mysql', ...services.mariadb, database: SOURCE_DATABASE },
        load: { dialect: 'mysql', ...services.mariadb, database: load },
        dst: { dialect: 'postgres', ...pgAccess(dst.name) },
      },
      writable: ['load', 'dst'],
      cloudDatabases: { warehouse: { dialect: 'postgres', ...pgAccess(warehouse.name) } },
      cloudWorker: CLOUD_WORKER as 'one' | 'split',
      nodeArgs: NODE_ARGS,
      memlog: MEMLOG,
      verbose,
      log,
    });
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
