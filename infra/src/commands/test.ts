import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceContext } from '../context';
import { acquireLock } from '../lock';
import { Supervisor } from '../supervisor';
import { assertPortFree } from '../ports';
import type { ServiceContext, ServiceSpec } from '../service';
import { temporalService } from '../services/temporal';
import { postgresService } from '../services/postgres';
import { mariadbService } from '../services/mariadb';
import { redisService } from '../services/redis';
import { minioService } from '../services/minio';
import { ensurePagila, ensureSakila } from '../demo-data';
import { repoRoot } from '../paths';
import { writeServiceDirectory } from '../service-directory';
import { ensurePrometheus, ensureTestTools, ensureTopologyTools, ensureUnitTools } from '../install';

export const TEST_SERVICES: ServiceSpec[] = [
  temporalService,
  postgresService,
  mariadbService,
  redisService,
  minioService,
];

/** Installs what is missing and starts every backing service of a profile; returns the supervisor. */
export async function startServices(
  ctx: ServiceContext,
  supervisor: Supervisor,
  services: ServiceSpec[],
): Promise<void> {
  for (const s of services) await s.install?.(ctx);
  for (const s of services) for (const p of s.ports(ctx)) await assertPortFree(p, s.name);
  const t0 = Date.now();
  await Promise.all(services.map((s) => supervisor.start(s)));
  writeServiceDirectory(ctx);
  ctx.log(`services ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${services.map((s) => s.name).join(', ')}`);
}

/** Processes recorded by an earlier run that did not stop them are ours to stop: we hold the lock now. */
export async function reclaimOrphans(ctx: ServiceContext, supervisor: Supervisor): Promise<void> {
  const reclaimed = await supervisor.reclaim();
  if (reclaimed.length) ctx.log(`stopped processes left by an earlier run: ${reclaimed.join(', ')}`);
}

/** Static checks that gate the suite: strict TypeScript over every package, the lint rules and the format. */
function staticChecks(ctx: ServiceContext): string[] {
  const checks: [string, string[]][] = [
    [
      'typecheck',
      [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(repoRoot, 'tsconfig.json'), '--noEmit'],
    ],
    // The console is a browser bundle (DOM, JSX, bundler resolution): its own strict tsconfig.
    [
      'typecheck console',
      [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(repoRoot, 'console', 'tsconfig.json')],
    ],
    ['lint', [join(repoRoot, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--max-warnings=0', repoRoot]],
    // One layout for every source (120 columns); `pnpm format` rewrites what this finds.
    [
      'format',
      [join(repoRoot, 'node_modules', 'prettier', 'bin', 'prettier.cjs'), '--check', '--log-level=warn', repoRoot],
    ],
  ];
  const failed: string[] = [];
  for (const [name, args] of checks) {
    const t0 = Date.now();
    const result = spawnSync(process.execPath, args, { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (result.status !== 0) {
      process.stdout.write(`${result.stdout}${result.stderr}`);
      failed.push(name);
    }
    ctx.log(`${name} ${result.status === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return failed;
}

/** The test tiers, as jest projects (jest.config.js): a file's suffix says its tier. */
export const TEST_TIERS = ['unit', 'integration', 'e2e', 'soak'] as const;
type TestTier = (typeof TEST_TIERS)[number];

/**
 * `vsc test [tier | patterns] [jest args]`: real services up, test data loaded, the suite (or one
 * tier, or the files matching patterns), services down. The unit tier needs no service and starts none.
 */
export async function test(args: string[]): Promise<number> {
  const tier = (TEST_TIERS as readonly string[]).includes(args[0] ?? '') ? (args[0] as TestTier) : undefined;
  const jestArgs = tier ? ['--selectProjects', tier, ...args.slice(1)] : args;
  if (tier === 'unit') return runJest(jestArgs, { VSC_TEST_TIER: 'unit' });
  const wholeSuite = args.length === 0;
  const ctx = serviceContext('test', (l) => process.stdout.write(`[vsc test] ${l}\n`));
  const lock = acquireLock(ctx.stateDir, 'vsc test');
  const supervisor = new Supervisor(ctx);
  const cleanup = async () => {
    await supervisor.stopAll({ parallel: true });
    lock.release();
  };
  const onSignal = () => void cleanup().then(() => process.exit(130));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    ensureUnitTools(ctx.log);
    // Only for the whole suite: a filtered run (./vsc test gateway) is for quick iteration.
    let unit: { code: number; counts: TestCounts } | undefined;
    if (wholeSuite) {
      const failed = staticChecks(ctx);
      if (failed.length) {
        process.stdout.write(`\n0 passed, ${failed.length} failed\n`);
        return 1;
      }
      // The unit tier first, before any service exists: that is what proves it needs none.
      unit = await runJestCounted(['--selectProjects', 'unit'], { VSC_TEST_TIER: 'unit' });
    }
    await reclaimOrphans(ctx, supervisor);
    await startServices(ctx, supervisor, TEST_SERVICES);
    ensureTestTools(ctx.log);
    // The soak tier's topology test starts `./vsc topology`, whose server is built once per machine.
    if (wholeSuite || args.some((a) => /soak|topology/.test(a))) ensureTopologyTools(ctx.log);
    // The e2e tier's Prometheus test scrapes the real processes with Debian's Prometheus server.
    if (wholeSuite || tier === 'e2e' || args.some((a) => /prometheus/.test(a))) ensurePrometheus(ctx.log);
    const [sakila, pagila] = await Promise.all([ensureSakila(ctx), ensurePagila(ctx)]);
    if (sakila === 'missing-data' || pagila === 'missing-data')
      ctx.log('shared/data not found beside the clone: tests that need Sakila or Pagila will fail');
    if (!unit) return await runJest(jestArgs, { VSC_TEST_SERVICES: '1' });
    const rest = await runJestCounted(['--selectProjects', 'integration', 'e2e', 'soak'], { VSC_TEST_SERVICES: '1' });
    const total = {
      passed: unit.counts.passed + rest.counts.passed,
      failed: unit.counts.failed + rest.counts.failed,
      skipped: unit.counts.skipped + rest.counts.skipped,
    };
    ctx.log(
      `all tiers: unit ${unit.counts.passed} passed, ${unit.counts.failed} failed; integration, e2e and soak ${rest.counts.passed} passed, ${rest.counts.failed} failed`,
    );
    // The unit tier's own report is far above by now: CI shows a log's end, so every failure is named again.
    const failures = [...unit.counts.failures, ...rest.counts.failures];
    if (failures.length) process.stdout.write(`\nfailed:\n${failures.map((f) => `  ${f}\n`).join('')}`);
    process.stdout.write(
      `\n${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}\n`,
    );
    return unit.code || rest.code;
  } catch (err) {
    process.stderr.write(
      `\nvsc test failed before the tests ran: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.stdout.write('0 passed, 1 failed\n');
    return 1;
  } finally {
    await cleanup();
  }
}

interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
  /** One line per failed test or file that could not run: file, test name, the message's first words. */
  failures: string[];
}

/** One jest run whose counts come back through the summary reporter; a run that wrote none counts as one failure. */
async function runJestCounted(
  jestArgs: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; counts: TestCounts }> {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-test-counts-'));
  const file = join(dir, 'counts.json');
  try {
    const code = await runJest(jestArgs, { ...env, VSC_TEST_COUNTS_FILE: file });
    const counts = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as TestCounts)
      : { passed: 0, failed: 1, skipped: 0, failures: [`jest exited with code ${code} before writing its summary`] };
    return { code, counts };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runJest(jestArgs: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      // PGlite loads its file system layer by dynamic import, which jest's CommonJS runtime needs this flag for.
      [
        '--experimental-vm-modules',
        '--disable-warning=ExperimentalWarning',
        join(repoRoot, 'node_modules', 'jest', 'bin', 'jest.js'),
        '--ci',
        ...jestArgs,
      ],
      { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, ...env } },
    );
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
}

/** `vsc services [dev|test]`: only the backing services, for running jest by hand. */
export async function services(profile: 'dev' | 'test'): Promise<number> {
  const ctx = serviceContext(profile, (l) => process.stdout.write(`[vsc services] ${l}\n`));
  const lock = acquireLock(ctx.stateDir, 'vsc services');
  const supervisor = new Supervisor(ctx);
  const stop = async () => {
    await supervisor.stopAll({ parallel: true });
    lock.release();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  try {
    await reclaimOrphans(ctx, supervisor);
    supervisor.onUnexpectedExit = (name) => ctx.log(`${name} exited; see ${supervisor.logFile(name)}`);
    await startServices(ctx, supervisor, TEST_SERVICES);
    ensureTestTools(ctx.log);
    await Promise.all([ensureSakila(ctx), ensurePagila(ctx)]);
    ctx.log('running; Ctrl-C stops them');
    await new Promise(() => undefined);
    return 0;
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    await stop();
    return 1;
  }
}

/** `vsc bench <name> [args]`: the test services up, one benchmark script (bench/<name>.ts), services down. */
export async function bench(name: string | undefined, args: string[]): Promise<number> {
  const scripts = readdirSync(join(repoRoot, 'bench'))
    .filter((f) => f.endsWith('.ts') && f !== 'support.ts')
    .map((f) => f.replace(/\.ts$/, ''));
  if (!name || !scripts.includes(name)) {
    process.stderr.write(`usage: ./vsc bench <${scripts.join('|')}> [args]\n`);
    return 2;
  }
  const ctx = serviceContext('test', (l) => process.stderr.write(`[vsc bench] ${l}\n`));
  const lock = acquireLock(ctx.stateDir, 'vsc bench');
  const supervisor = new Supervisor(ctx);
  try {
    await reclaimOrphans(ctx, supervisor);
    await startServices(ctx, supervisor, TEST_SERVICES);
    ensureTestTools(ctx.log);
    await Promise.all([ensureSakila(ctx), ensurePagila(ctx)]);
    return await new Promise<number>((resolve) => {
      // VSC_BENCH_NODE_ARGS: node flags for the benchmark process only (e.g. --cpu-prof, which NODE_OPTIONS refuses).
      const nodeArgs = (process.env.VSC_BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
      const child = spawn(
        process.execPath,
        [...nodeArgs, '--import', 'tsx', join(repoRoot, 'bench', `${name}.ts`), ...args],
        { cwd: join(repoRoot, 'bench'), stdio: 'inherit' },
      );
      child.on('exit', (c) => resolve(c ?? 1));
    });
  } finally {
    await supervisor.stopAll({ parallel: true });
    lock.release();
  }
}
