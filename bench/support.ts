import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { newBufferKeySpec } from '@vansales/buffer';
import { newPayloadKeySpec } from '@vansales/temporal-config';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { testServices } from '@vansales/test-kit';
export { waitFor } from '@vansales/infra';

export const services = testServices();
export const repoRoot = join(__dirname, '..');

/** One JSON line per figure: what the benchmark scripts print. */
export function emit(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export { throwawayPostgresDatabase as freshDatabase } from '@vansales/test-kit';

/** Starts one of our built processes (./vsc builds dist/) with its environment. */
export function startProcess(script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [join(repoRoot, script)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', process.env.BENCH_VERBOSE ? 'inherit' : 'ignore', 'inherit'],
  });
}

/** Resident memory of a process in MB, from /proc. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** CPU seconds (user + system, all threads) a process has used, from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU seconds the service processes whose command line names `stateDir` have used (the test
 * profile's MariaDB, PostgreSQL, Temporal and MinIO, not another engineer's copy), by program name.
 * A program's children (PostgreSQL's backends) are counted with it: the live ones by their own
 * figures, the ones that ended by the parent's reaped-children time.
 */
export function serviceCpuSeconds(stateDir: string): Record<string, number> {
  const procs = new Map<number, { comm: string; ppid: number; own: number; reaped: number; mine: boolean }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const mine = readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(stateDir);
      procs.set(Number(entry), {
        comm,
        ppid: Number(f[1]),
        own: (Number(f[11]) + Number(f[12])) / 100,
        reaped: (Number(f[13]) + Number(f[14])) / 100,
        mine,
      });
    } catch {
      // ended meanwhile
    }
  }
  const out: Record<string, number> = {};
  for (const [pid, p] of procs) {
    if (!p.mine || procs.get(p.ppid)?.mine) continue;
    const name = p.comm.replace(/-v[\d.].*$/, '');
    let total = p.own + p.reaped;
    for (const c of procs.values()) if (c.ppid === pid) total += c.own;
    out[name] = (out[name] ?? 0) + total;
  }
  return out;
}

/** CPU seconds per thread name (node's main thread, tokio's workers, libuv's pool, V8's helpers), from /proc. */
export function cpuSecondsByThread(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** Share of one core a process used over a window, in percent, in all and per thread name. */
export async function idleCpuByThread(
  pid: number,
  seconds: number,
): Promise<{ total: number; byThread: Record<string, number> }> {
  const before = cpuSecondsByThread(pid);
  const total0 = cpuSeconds(pid);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = cpuSecondsByThread(pid);
  const byThread = Object.fromEntries(
    Object.entries(after)
      .map(([name, s]) => [name, Math.round(((s - (before[name] ?? 0)) / seconds) * 10000) / 100])
      .filter(([, pct]) => (pct as number) > 0),
  );
  return { total: ((cpuSeconds(pid) - total0) / seconds) * 100, byThread };
}

/** Share of one core a process used over a window, in percent. */
export async function idleCpuPercent(pid: number, seconds: number): Promise<number> {
  const before = cpuSeconds(pid);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return ((cpuSeconds(pid) - before) / seconds) * 100;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * The settings an in-process gateway and cloud worker of one benchmark run share: fresh task
 * queues, admin token, payload and buffer keys, on the test services.
 */
export function platformEnv(suffix: string, metadataUrl: string) {
  return {
    VSC_GATEWAY_PORT: '0',
    VSC_ADMIN_TOKEN: randomBytes(32).toString('base64url'),
    TEMPORAL_ADDRESS: services.temporalAddress,
    TEMPORAL_NAMESPACE: services.temporalNamespace,
    VSC_WORKFLOW_TASK_QUEUE: `workflows-bench-${suffix}`,
    VSC_CLOUD_TASK_QUEUE: `cloud-bench-${suffix}`,
    DATABASE_URL: metadataUrl,
    // The gateway as in production: sessions leased in Redis.
    VSC_REDIS_URL: services.redisUrl,
    VSC_PAYLOAD_KEYS: newPayloadKeySpec('bench'),
    VSC_BUFFER_KEYS: newBufferKeySpec('bench'),
    VSC_BUFFER_TOKEN_SECRET: randomBytes(32).toString('base64'),
  };
}

/** `--name value` or `--name=value` from the script's arguments. */
export function cliOption(name: string, args = process.argv.slice(2)): string | undefined {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return args[i]!.includes('=') ? args[i]!.slice(args[i]!.indexOf('=') + 1) : args[i + 1];
}

/** `--rows N` (default 1,000,000), checked. */
export function rowsOption(): number {
  const rows = Number(cliOption('rows') ?? 1_000_000);
  if (!Number.isInteger(rows) || rows < 1 || rows > 100_000_000)
    throw new Error(`--rows must be a whole number from 1 to 100000000, not ${cliOption('rows')}`);
  return rows;
}
