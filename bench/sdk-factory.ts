/**
 * The SDK factory on GitHub's REST description (@octokit/openapi, about 13 MB, 1,100+ operations):
 * each stage of our pipeline and the peer, @hey-api/openapi-ts, on the same file in the same run.
 * Every stage runs in a child process of its own, so its peak RSS (VmHWM) is its own; each prints
 * one JSON line, then one line gives the ratios. Time is wall and CPU (this machine is shared: CPU
 * seconds say more than wall when it is busy). No services needed.
 *
 *   node --import tsx sdk-factory.ts [--spec <file>] [--stages ingest,hey-api]
 *
 * Stages: `ingest` (a part, shown alone), `sdk` (ours: `buildApi`, text to validated manifest +
 * sandbox-ready SDK, every operation checked by count against the document), `sdk-tsc` (a check: the
 * same build with the SDK compiled by `tsc --strict`, its error count), `hey-api` (the peer). `ours`
 * stages add up into the pipeline total that the ratio line compares with the peer. Target of issue
 * 11: GitHub's spec to validated manifest + SDK in at most 8 s and 400 MB.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildApi } from '@vansales/sdk-factory/build';
import { ingestSpec } from '@vansales/sdk-factory/ingest';
import { cliOption, emit, round } from './common/json-lines';

const vmKb = (field: 'VmHWM' | 'VmRSS') =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);

const SPEC = cliOption('spec') ?? require.resolve('@octokit/openapi/generated/api.github.com.json');

interface Stage {
  /** Ours (the pipeline the target is about: the ratio line compares it with the peer), a part of ours shown alone, a check, or the peer's. */
  side: 'ours' | 'part' | 'check' | 'peer';
  /** Runs the stage in this (child) process; returns figures to print beside time and memory. */
  run(spec: string): Promise<Record<string, unknown>>;
}

const STAGES: Record<string, Stage> = {
  /** Text to validated operation manifest (parse, official schema, semantic checks, manifest, hash): the first part of `sdk`. */
  ingest: {
    side: 'part',
    async run(spec) {
      const { manifest, problems } = await ingestSpec({ text: readFileSync(spec, 'utf8') });
      return {
        operations: manifest.operations.length,
        schemas: Object.keys(manifest.schemas).length,
        warnings: problems.length,
      };
    },
  },
  /**
   * The target: text to validated manifest + sandbox-ready SDK (sources and one bundle per operation)
   * by `buildApi`, as the gateway runs it (in a worker thread; CPU and peak memory are the process's,
   * the thread's included).
   */
  sdk: {
    side: 'ours',
    async run(spec) {
      const built = await buildApi({ text: readFileSync(spec, 'utf8') });
      const sizes = built.bundles.map((b) => Buffer.byteLength(b.bundle)).sort((a, b) => a - b);
      return {
        operations: built.manifest.operations.length,
        bundled: built.bundles.length,
        sdk_files: Object.keys(built.files).length,
        bundle_kb_median: round((sizes[sizes.length >> 1] ?? 0) / 1024),
        bundle_kb_max: round((sizes.at(-1) ?? 0) / 1024),
      };
    },
  },
  /** The same build with the generated SDK compiled by `tsc --strict` (verification, not part of the target). */
  'sdk-tsc': {
    side: 'check',
    async run(spec) {
      const built = await buildApi({ text: readFileSync(spec, 'utf8') }, { typeCheck: true });
      for (const error of built.typeCheck?.errors.slice(0, 20) ?? []) process.stderr.write(`[bench] ${error}\n`);
      return { operations: built.manifest.operations.length, tsc_strict_errors: built.typeCheck?.errors.length };
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

/** Operations in the document as written (paths x methods), counted here, apart from the pipeline, to check its count. */
function operationsInSpec(spec: string): number | undefined {
  try {
    const doc = JSON.parse(readFileSync(spec, 'utf8')) as { paths?: Record<string, Record<string, unknown>> };
    const methods = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
    return Object.values(doc.paths ?? {}).reduce(
      (n, item) => n + Object.keys(item).filter((k) => methods.has(k)).length,
      0,
    );
  } catch {
    return undefined; // YAML: not counted here
  }
}

function parent(): void {
  const names = (cliOption('stages') ?? Object.keys(STAGES).join(',')).split(',').filter(Boolean);
  const written = operationsInSpec(SPEC);
  emit({
    bench: 'sdk-factory',
    spec: SPEC,
    spec_bytes: readFileSync(SPEC).length,
    operations_in_spec: written,
    load_average: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  });
  const results: Record<
    string,
    { side: string; seconds: number; cpu_seconds: number; peak_rss_mb: number; operations?: number; bundled?: number }
  > = {};
  const checks: Record<string, unknown> = {};
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
    const result = JSON.parse(line) as (typeof results)[string] & { tsc_strict_errors?: number };
    results[name] = result;
    if (name === 'sdk')
      checks['every_operation_present'] =
        written !== undefined && result.operations === written && result.bundled === written;
    if (result.tsc_strict_errors !== undefined) checks['tsc_strict_errors'] = result.tsc_strict_errors;
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
    within_target: total.seconds <= 8 && total.peak_rss_mb <= 400,
    ...checks,
    load_average_after: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  });
}

const stage = cliOption('stage');
if (stage) void child(stage);
else parent();
