/**
 * The mini connector's footprint (issue 13, "Done when"): the same agent as the single executable
 * users install (`./vsc release agent`, linux-x64, cached per machine) and as `node dist/main.js`
 * (how the platform's own processes run), and the executable's own bundled scripts run by `node`
 * (what the single-file packaging costs, apart from bundling), each against a real gateway and cloud
 * worker (common/platform-processes), beside the floor of the runtime alone:
 *   - size: the executable; the Node.js binary it embeds (floor); the agent's built dist/main.js;
 *   - start: spawn to connected (the gateway lists the connector online); floor: `node -e 0` to its
 *     exit, and the executable's `--version` to its exit (the runtime and the embedded agent loaded);
 *   - idle RSS: median of ten /proc samples over a second, two seconds after connecting; floor: a
 *     bare `node` waiting on a timer;
 *   - extract RSS: peak of /proc samples every 100 ms while an `extractStepWorkflow` reads the generated
 *     table (`--rows`, 1,000,000 rows by default, bench/generated-table.ts) into the buffer.
 * Prints one JSON line per figure and path; progress goes to stderr. Exits non-zero when an extract
 * does not report every row. Asserts nothing about time or memory: the figures are the result.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startPlatformProcesses, type ProcessPlatform } from './common/platform-processes';
import { ensureGeneratedTable } from './generated-table';
import { emit, repoRoot, round, rowsOption, rssMb, services } from './support';

const BENCH = 'agent-footprint';
const SOURCE_DATABASE = 'vsc_bench';
const ROWS = rowsOption();
const TABLE = ROWS === 1_000_000 ? 'rows_1m' : `rows_${ROWS}`;
const SAMPLE_MS = 100;

const log = (line: string) => process.stderr.write(`[${BENCH}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);

/** The linux-x64 single executable, built by `./vsc release agent` (its executables are cached per machine). */
function singleExecutable(work: string): string {
  const out = join(work, 'release');
  const built = spawnSync(
    process.execPath,
    [join(repoRoot, 'infra/dist/cli.js'), 'release', 'agent', '--out', out, '--platform', 'linux-x64'],
    { encoding: 'utf8', timeout: 900_000 },
  );
  if (built.status !== 0) throw new Error(`./vsc release agent failed:\n${built.stdout}\n${built.stderr}`);
  return join(out, 'mini-connector-linux-x64');
}

/** Milliseconds from spawn to exit of a command that does nothing else (the floor of a start). */
function exitMs(command: string, args: string[]): number {
  const t0 = performance.now();
  const done = spawnSync(command, args, { stdio: 'ignore' });
  if (done.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${done.status}`);
  return performance.now() - t0;
}

/** Median RSS (MB) of ten samples over a second. */
async function idleRss(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) {
    samples.push(rssMb(pid));
    await sleep(SAMPLE_MS);
  }
  return samples.sort((a, b) => a - b)[5]!;
}

/**
 * The resident memory's kinds (MB), from /proc: anonymous (heaps, buffers) and file-backed (the
 * executable's and libraries' pages read in; for the single executable, its embedded scripts too).
 */
function rssKinds(pid: number): { anonMb: number; fileMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { anonMb: round(kb('RssAnon') / 1024, 1), fileMb: round(kb('RssFile') / 1024, 1) };
}

/** A bare node process waiting on a timer: the runtime's own resident memory. */
async function bareNodeRss(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    await sleep(2000);
    return await idleRss(child.pid!);
  } finally {
    child.kill('SIGKILL');
  }
}

async function api<T>(platform: ProcessPlatform, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${platform.gatewayUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${platform.adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

interface AgentPath {
  name: 'single-executable' | 'node-dist-main' | 'node-sea-bundle';
  command: string;
  args: string[];
}

/**
 * The executable's own scripts (esbuild's bundle of the agent, its workers and WebAssembly), as its
 * launcher wrote them into its private folder under TMPDIR: copied once, so `node` can run the very
 * code the executable runs (what the single-file packaging costs, apart from bundling).
 */
function keepSeaBundle(tmp: string, into: string): void {
  if (existsSync(into)) return;
  const folder = readdirSync(tmp).find((f) => f.startsWith('mini-connector-'));
  if (!folder) throw new Error(`the executable wrote no mini-connector-* folder into ${tmp}`);
  cpSync(join(tmp, folder), into, { recursive: true });
}

/** One agent of `path` on a connector of its own: start, idle and extract figures. */
async function measure(
  platform: ProcessPlatform,
  work: string,
  path: AgentPath,
  run: number,
  seaBundle: string,
): Promise<void> {
  const suffix = randomBytes(3).toString('hex');
  const connector = await api<{ id: string; apiKey: string }>(
    platform,
    'POST',
    `/v1/tenants/${platform.tenantId}/connectors`,
    { name: `${path.name}-${suffix}` },
  );
  const dir = join(work, `${path.name}-${suffix}`);
  mkdirSync(dir);
  const config = join(dir, 'agent.json');
  writeFileSync(
    config,
    JSON.stringify({
      gatewayUrl: `${platform.gatewayUrl.replace('http', 'ws')}/v1/agent/connect`,
      apiKey: connector.apiKey,
      logLevel: 'warn',
      auditLogPath: join(dir, 'audit.jsonl'),
      databases: { src: { dialect: 'mysql', ...services.mariadb, database: SOURCE_DATABASE } },
    }),
    { mode: 0o600 },
  );
  writeFileSync(join(dir, 'policy.json'), JSON.stringify({ writableTables: [] }), { mode: 0o600 });

  const output: string[] = [];
  const t0 = performance.now();
  // The same environment for both: no NODE_OPTIONS or malloc settings of this shell.
  const child: ChildProcess = spawn(path.command, [...path.args, 'run', '--config', config], {
    cwd: dir,
    env: { PATH: '/usr/bin:/bin', HOME: dir, TMPDIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${path.name} exited: ${output.join('').slice(-2000)}`);
      const list = await api<{ id: string; online: boolean }[]>(
        platform,
        'GET',
        `/v1/tenants/${platform.tenantId}/connectors`,
      );
      if (list.some((c) => c.id === connector.id && c.online)) break;
      if (Date.now() > deadline) throw new Error(`${path.name} did not connect: ${output.join('').slice(-2000)}`);
      await sleep(20);
    }
    const connectedMs = performance.now() - t0;
    if (path.name === 'single-executable') keepSeaBundle(dir, seaBundle);
    await sleep(2000);
    const idle = await idleRss(child.pid!);
    const idleKinds = rssKinds(child.pid!);

    let peak = idle;
    const timer = setInterval(() => {
      try {
        peak = Math.max(peak, rssMb(child.pid!));
      } catch {
        // Gone: the extract fails below and says why.
      }
    }, SAMPLE_MS);
    const e0 = performance.now();
    let extracted: { rowCount: number; chunkCount: number };
    try {
      extracted = await platform.temporal.workflow.execute('extractStepWorkflow', {
        taskQueue: platform.workflowTaskQueue,
        workflowId: `footprint-${path.name}-${suffix}`,
        args: [
          {
            tenantId: platform.tenantId,
            source: { placement: 'connector', connectorId: connector.id, database: 'src' },
            table: { name: TABLE },
          },
        ],
      });
    } finally {
      clearInterval(timer);
    }
    const extractSeconds = (performance.now() - e0) / 1000;
    if (extracted.rowCount !== ROWS)
      throw new Error(`${path.name}: the extract reported ${extracted.rowCount} rows, the table has ${ROWS}`);
    emit({
      bench: BENCH,
      path: path.name,
      run,
      startToConnectedMs: Math.round(connectedMs),
      idleRssMb: round(idle, 1),
      idleRssAnonMb: idleKinds.anonMb,
      idleRssFileMb: idleKinds.fileMb,
      extract: { rows: extracted.rowCount, chunks: extracted.chunkCount, seconds: round(extractSeconds, 2) },
      extractPeakRssMb: round(peak, 1),
    });
  } finally {
    child.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'vsc-bench-footprint-'));
  let platform: ProcessPlatform | undefined;
  try {
    log('building (or reusing) the linux-x64 single executable');
    const exe = singleExecutable(work);
    const distMain = join(repoRoot, 'connector-agent/dist/main.js');
    emit({
      bench: BENCH,
      figure: 'size',
      singleExecutableMb: mb(statSync(exe).size),
      floorNodeRuntimeMb: mb(statSync(process.execPath).size),
      // What the executable adds to the runtime: the bundled agent, its workers and WebAssembly.
      embeddedAgentMb: mb(statSync(exe).size - statSync(process.execPath).size),
      // Without the node_modules it loads its dependencies from.
      nodeDistMainMb: mb(statSync(distMain).size),
    });

    await ensureGeneratedTable(SOURCE_DATABASE, TABLE, ROWS, log);
    platform = await startPlatformProcesses(work, {
      label: 'vsc_footprint',
      agentDatabases: {},
      writable: [],
      cloudDatabases: {},
      log,
    });
    // The platform's own agent is not measured: the paths below run theirs on connectors of their own.
    const own = platform.procs.get('agent')!;
    // Out of the map first: a process stopped on purpose is not reported as a crash.
    platform.procs.delete('agent');
    const stopped = new Promise((r) => own.once('exit', r));
    own.kill('SIGTERM');
    await stopped;

    const floor = {
      nodeExitMs: [0, 1, 2].map(() => exitMs(process.execPath, ['-e', '0'])),
      executableVersionMs: [0, 1, 2].map(() => exitMs(exe, ['--version'])),
    };
    emit({
      bench: BENCH,
      figure: 'floor',
      nodeEStartToExitMs: Math.round(Math.min(...floor.nodeExitMs)),
      singleExecutableVersionStartToExitMs: Math.round(Math.min(...floor.executableVersionMs)),
      bareNodeIdleRssMb: round(await bareNodeRss(), 1),
    });
    const seaBundle = join(work, 'sea-bundle');
    const paths: AgentPath[] = [
      // First: the others' figures need nothing of it, the bundle path needs its scripts.
      { name: 'single-executable', command: exe, args: [] },
      { name: 'node-dist-main', command: process.execPath, args: [distMain] },
      { name: 'node-sea-bundle', command: process.execPath, args: [join(seaBundle, 'main.js')] },
    ];
    // The second run in the other order, so a change of the machine's load falls on every path.
    for (const run of [1, 2])
      for (const path of run === 1 ? paths : [...paths].reverse()) {
        log(`run ${run}: ${path.name}`);
        await measure(platform, work, path, run, seaBundle);
      }
    emit({ bench: BENCH, figure: 'machine', loadAverage1m: round(loadavg()[0]!, 2) });
  } finally {
    await platform?.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
