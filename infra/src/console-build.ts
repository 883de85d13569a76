import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { InfraError, InfraErrorCode } from './errors';
import { ensureAptPackages, which, type Logger } from './install';
import { withFileLock } from './lock';
import { repoRoot } from './paths';
import { waitFor } from './ports';

const consoleDir = join(repoRoot, 'console');

/** Built consoles, one folder per source hash, shared by every clone on the machine. */
export function consoleCacheDir(): string {
  return (
    process.env.VSC_CONSOLE_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vansales-connect', 'console')
  );
}

/**
 * Workspace packages the console bundles (transpilePackages in next.config.mjs): the designer
 * validates definitions in the browser with the gateway's own code, so a change there is a new build.
 */
const BUNDLED_PACKAGES = [
  'libs/definitions/src',
  'libs/definitions/package.json',
  'libs/protocol/src',
  'libs/protocol/package.json',
];

/** Everything a `next build` reads: the console's files (not its build or node_modules), the packages it bundles, the lockfile. */
export function consoleSourceHash(): string {
  const hash = createHash('sha256');
  const walk = (folder: string): string[] =>
    readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
      if (entry.name === 'node_modules' || entry.name === '.next' || entry.name === 'next-env.d.ts') return [];
      const path = join(folder, entry.name);
      return entry.isDirectory() ? walk(path) : [path];
    });
  const bundled = BUNDLED_PACKAGES.map((p) => join(repoRoot, p)).flatMap((p) =>
    statSync(p).isDirectory() ? walk(p) : [p],
  );
  for (const file of [...walk(consoleDir), ...bundled, join(repoRoot, 'pnpm-lock.yaml')].sort()) {
    hash.update(relative(repoRoot, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The folder of a built console server (`console/server.js` in it, Next.js standalone output),
 * building it once per source hash: `next build` takes minutes on a small machine, a cache hit one hash.
 * One build at a time per clone (a lock in its node_modules): a second caller waits and takes the result.
 */
export function ensureConsoleBuild(log: Logger): string {
  const target = join(consoleCacheDir(), consoleSourceHash());
  const built = () => existsSync(join(target, 'console', 'server.js'));
  if (built()) return target;
  return withFileLock(
    join(repoRoot, 'node_modules', '.vsc-console-build.lock'),
    () => {
      if (!built()) buildConsole(target, log);
      return target;
    },
    { what: 'the console build', onWait: (pid) => log(`waiting for the console build of process ${pid}`) },
  );
}

function buildConsole(target: string, log: Logger): void {
  log('building the console (next build; first run after a change to console/ or the lockfile only)');
  const next = join(consoleDir, 'node_modules', 'next', 'dist', 'bin', 'next');
  const result = spawnSync(process.execPath, [next, 'build'], {
    cwd: consoleDir,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new InfraError(InfraErrorCode.installFailed, `next build of the console failed:\n${tail}`);
  }
  // Built beside the target, then renamed: a build cut short never looks like a finished one.
  mkdirSync(consoleCacheDir(), { recursive: true });
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  // pnpm's node_modules are relative symlinks: kept as they are, they stay inside the copy.
  cpSync(join(consoleDir, '.next', 'standalone'), partial, { recursive: true, verbatimSymlinks: true });
  // Standalone output leaves the static assets to the deployer.
  cpSync(join(consoleDir, '.next', 'static'), join(partial, 'console', '.next', 'static'), { recursive: true });
  try {
    renameSync(partial, target);
  } catch (err) {
    // Another clone finished the same build first: theirs is as good.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(join(target, 'console', 'server.js'))) throw err;
  }
  log(`console built into ${target}`);
  pruneOldBuilds(target);
}

/** Keeps the newest builds (other clones may be on other hashes) so the cache does not grow with every edit. */
function pruneOldBuilds(keep: string, newest = 3): void {
  const builds = readdirSync(consoleCacheDir(), { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^[0-9a-f]{16}$/.test(d.name))
    .map((d) => join(consoleCacheDir(), d.name))
    .filter((dir) => dir !== keep)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const old of builds.slice(newest - 1)) rmSync(old, { recursive: true, force: true });
}

/** Debian's Chromium for the browser tests (npm packages cannot download browsers here); first run only. */
export function ensureChromium(log: Logger): string {
  ensureAptPackages([{ probe: 'chromium', pkg: 'chromium' }], log);
  return which('chromium') ?? '/usr/bin/chromium';
}

/** Flags for Debian's Chromium in a container: no sandbox (root), nothing fetched from the internet. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * The built console (ensureConsoleBuild) served by its own Next.js server on `port`, for the browser
 * tests and the page benchmarks: answers once the server serves its first page.
 */
export async function serveConsoleBuild(log: Logger, port: number): Promise<{ url: string; stop(): void }> {
  const buildDir = ensureConsoleBuild(log);
  const url = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, [join(buildDir, 'console', 'server.js')], {
    cwd: join(buildDir, 'console'),
    env: { ...process.env, PORT: String(port), HOSTNAME: '127.0.0.1', NEXT_TELEMETRY_DISABLED: '1' },
    stdio: 'ignore',
  });
  const stop = () => void server.kill();
  try {
    await waitFor(
      'the console server to answer',
      () =>
        fetch(url, { signal: AbortSignal.timeout(1000) }).then(
          (r) => r.ok,
          () => false,
        ),
      60_000,
      200,
      () => server.exitCode !== null,
    );
  } catch (err) {
    stop();
    throw err;
  }
  return { url, stop };
}
