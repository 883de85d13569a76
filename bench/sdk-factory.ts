/**
 * The SDK factory on GitHub's REST description (@octokit/openapi, about 13 MB, 1,100+ operations):
 * each stage of our pipeline and the peer, @hey-api/openapi-ts, on the same file in the same run.
 * Every stage runs in a child process of its own, so its peak RSS (VmHWM) is its own; each prints
 * one JSON line, then one line gives the ratios. Time is wall and CPU (this machine is shared: CPU
 * seconds say more than wall when it is busy). No services needed.
 *
 *   node --import tsx sdk-factory.ts [--spec <file>] [--stages ingest,hey-api]
 *
 * Adding a stage (the SDK generation, the bundle): one entry in STAGES; `ours` stages add up into
 * the pipeline total that the ratio line compares with the peer. Target of issue 11: GitHub's spec to
 * validated manifest + SDK in at most 8 s and 400 MB.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ingestSpec } from '@vansales/sdk-factory/ingest';
import { cliOption, emit, round } from './common/json-lines';

const vmKb = (field: 'VmHWM' | 'VmRSS') =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);

const SPEC = cliOption('spec') ?? require.resolve('@octokit/openapi/generated/api.github.com.json');

interface Stage {
  /** Ours (adds into the pipeline total) or the peer's. */
  side: 'ours' | 'peer';
  /** Runs the stage in this (child) process; returns figures to print beside time and memory. */
  run(spec: string): Promise<Record<string, unknown>>;
}

const STAGES: Record<string, Stage> = {
  /** Text to validated operation manifest (parse, official schema, semantic checks, manifest, hash). */
  ingest: {
    side: 'ours',
    async run(spec) {
      const { manifest, problems } = await ingestSpec({ text: readFileSync(spec, 'utf8') });
      return {
        operations: manifest.operations.length,
        schemas: Object.keys(manifest.schemas).length,
        warnings: problems.length,
      };
    },
  },
  /** @hey-api/openapi-ts: parse, its own IR, TypeScript types + SDK + fetch client written to a folder. */
  'hey-api': {
    side: 'peer',
    async run(spec) {
      const out = mkdtempSync(join(tmpdir(), 'vsc-bench-hey-api-'));
      try {
        const { createClient } = await import('@hey-api/openapi-ts');
        await createClient({ input: spec, output: out, logs: { level: 'silent' } });
        return { output: 'types + sdk + client-fetch' };
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
  },
};

async function child(name: string): Promise<void> {
  const stage = STAGES[name];
  if (!stage) throw new Error(`no stage ${name}: one of ${Object.keys(STAGES).join(', ')}`);
  const baselineMb = vmKb('VmRSS') / 1024;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const figures = await stage.run(SPEC);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  emit({
    bench: 'sdk-factory',
    stage: name,
    side: stage.side,
    seconds: round(seconds, 3),
    cpu_seconds: round((cpu.user + cpu.system) / 1e6, 3),
    peak_rss_mb: Math.round(vmKb('VmHWM') / 1024),
    baseline_rss_mb: Math.round(baselineMb),
    ...figures,
  });
}

function parent(): void {
  const names = (cliOption('stages') ?? Object.keys(STAGES).join(',')).split(',').filter(Boolean);
  emit({
    bench: 'sdk-factory',
    spec: SPEC,
    spec_bytes: readFileSync(SPEC).length,
    load_average: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  });
  const results: Record<string, { side: string; seconds: number; cpu_seconds: number; peak_rss_mb: number }> = {};
  for (const name of names) {
    const run = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--stage', name, '--spec', SPEC], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * 1024 * 1024,
    });
    const line = run.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .at(-1);
    if (run.status !== 0 || !line) {
      emit({ bench: 'sdk-factory', stage: name, failed: true, exit: run.status, signal: run.signal });
      continue;
    }
    process.stdout.write(`${line}\n`);
    results[name] = JSON.parse(line);
  }
  const ours = Object.values(results).filter((r) => r.side === 'ours');
  const peer = results['hey-api'];
  if (ours.length === 0 || !peer) return;
  const total = {
    seconds: ours.reduce((n, r) => n + r.seconds, 0),
    cpu_seconds: ours.reduce((n, r) => n + r.cpu_seconds, 0),
    // Stages run one after another in their own processes: the pipeline's peak is the largest.
    peak_rss_mb: Math.max(...ours.map((r) => r.peak_rss_mb)),
  };
  emit({
    bench: 'sdk-factory',
    stage: 'ratio',
    ours: Object.keys(results).filter((n) => results[n]!.side === 'ours'),
    ours_seconds: round(total.seconds, 3),
    ours_cpu_seconds: round(total.cpu_seconds, 3),
    ours_peak_rss_mb: total.peak_rss_mb,
    peer_over_ours_seconds: round(peer.seconds / total.seconds),
    peer_over_ours_cpu_seconds: round(peer.cpu_seconds / total.cpu_seconds),
    peer_over_ours_peak_rss: round(peer.peak_rss_mb / total.peak_rss_mb),
    target: 'manifest + SDK <= 8 s and <= 400 MB',
  });
}

const stage = cliOption('stage');
if (stage) void child(stage);
else parent();
