import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { InfraError, InfraErrorCode } from '../errors';
import type { Logger } from '../install';
import { cacheRoot, repoRoot } from '../paths';
import { YOUNG_GENERATION_FLAGS } from '@vansales/protocol';

/**
 * `./vsc release agent` (issue 13 §2): the mini connector as one executable per platform, built with
 * Node's single executable applications (`node --build-sea`) from the pinned runtime packages
 * (infra/node-runtime.json), with SHA-256 sums and an Ed25519 signature over them.
 *
 * The agent is bundled with esbuild into plain scripts (its main and its two worker threads) beside
 * the WebAssembly modules it reads from disk; they ride in the executable as SEA assets, and
 * `connector-agent/src/release/sea-launcher.ts` (the SEA's main) unpacks them at start. The agent has
 * no native module (its SQL parser and sandbox are WebAssembly), so nothing is platform-specific
 * except the runtime the blob goes into.
 */
export const AGENT_PLATFORMS = ['linux-x64', 'win-x64'] as const;
export type AgentPlatform = (typeof AGENT_PLATFORMS)[number];

export interface AgentRelease {
  dir: string;
  version: string;
  commit: string;
  executables: Record<AgentPlatform, string>;
  sums: string;
  signature: string;
  publicKey: string;
}

const WORKER_ENTRIES = {
  main: 'connector-agent/src/main.ts',
  'transform-worker': 'libs/transforms/src/worker/transform-worker.ts',
  'vm-worker': 'sdk-factory/src/sandbox/vm-worker.ts',
};
/**
 * Files the bundled code reads from its own folder (`__dirname`): package, file in it. The WebAssembly
 * modules of the SQL parser and the sandbox, and WinSW, which `service install` on Windows copies as
 * the service wrapper: a site has the executable alone, without the node-windows package it comes from.
 */
const BESIDE_FILES = [
  ['libpg-query', 'wasm/libpg-query.wasm'],
  ['@jitl/quickjs-wasmfile-release-sync', 'dist/emscripten-module.wasm'],
  ['node-windows', 'bin/winsw/winsw.exe'],
] as const;

export function executableName(platform: AgentPlatform): string {
  return platform.startsWith('win-') ? `mini-connector-${platform}.exe` : `mini-connector-${platform}`;
}

function pinnedRuntime(platform: AgentPlatform): string {
  return execFileSync(process.execPath, [join(repoRoot, 'infra/bin/node-runtime.js'), 'binary', platform], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

function gitCommit(): string {
  const git = (args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
  try {
    const head = git(['rev-parse', '--short=12', 'HEAD']);
    return git(['status', '--porcelain', '--untracked-files=no']) ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

/**
 * The release signing key: `VSC_RELEASE_SIGNING_KEY` names the production key's PEM file (kept
 * offline; see connector-agent/README.md "Releases"); otherwise a development key generated once
 * into the machine cache (0600), whose signatures only a development build trusts.
 */
function signingKey(log: Logger): { privateKeyPem: string; publicKeyPem: string; dev: boolean } {
  const production = process.env.VSC_RELEASE_SIGNING_KEY;
  const path = production ?? join(cacheRoot(), 'release', 'dev-release-key.pem');
  if (!existsSync(path)) {
    if (production)
      throw new InfraError(InfraErrorCode.badConfig, `VSC_RELEASE_SIGNING_KEY=${production} does not exist`);
    log(`generating a development release key into ${path}`);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  const key = createPrivateKey(readFileSync(path));
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new InfraError(InfraErrorCode.badConfig, `the release key ${path} is ${key.asymmetricKeyType}, not Ed25519`);
  }
  const publicKeyPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  return { privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKeyPem, dev: !production };
}

async function bundleAgent(out: string, define: Record<string, string>): Promise<string[]> {
  const common = {
    bundle: true,
    platform: 'node' as const,
    format: 'cjs' as const,
    target: 'node26',
    minifySyntax: true,
    legalComments: 'none' as const,
    logLevel: 'error' as const,
    define,
    // Optional drivers the agent never loads (pg's native binding): left as a require that fails if called.
    external: ['pg-native'],
  };
  await build({
    ...common,
    entryPoints: Object.fromEntries(Object.entries(WORKER_ENTRIES).map(([name, src]) => [name, join(repoRoot, src)])),
    outdir: out,
  });
  await build({
    ...common,
    entryPoints: [join(repoRoot, 'connector-agent/src/release/sea-launcher.ts')],
    outfile: join(out, '..', 'sea-launcher.js'),
  });
  const agentDir = join(repoRoot, 'connector-agent');
  // All are the agent's own dependencies, linked into its node_modules (their exports hide the files).
  for (const [pkg, file] of BESIDE_FILES) {
    copyFileSync(join(agentDir, 'node_modules', pkg, file), join(out, file.split('/').pop()!));
  }
  return readdirSync(out).sort();
}

function hashFiles(dir: string, files: string[], extra: string): string {
  const hash = createHash('sha256').update(extra);
  for (const file of files) hash.update(file).update(readFileSync(join(dir, file)));
  return hash.digest('hex');
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export interface AgentReleaseOptions {
  /**
   * The version the build says it is (`--version-override`): the agent's AGENT_VERSION and
   * release.json. For test builds of an update (two real builds with different versions).
   */
  version?: string;
  /** Only these platforms (`--platform linux-x64`): a test needs the one it runs. */
  platforms?: readonly AgentPlatform[];
}

const VERSION_PATTERN = /^\d{1,6}\.\d{1,6}\.\d{1,6}(-[0-9A-Za-z.-]{1,40})?$/;

/** Builds (or takes from the machine cache) the executables, then writes them, the sums and the signature to `outDir`. */
export async function buildAgentRelease(
  outDir: string,
  log: Logger,
  options: AgentReleaseOptions = {},
): Promise<AgentRelease> {
  const version =
    options.version ??
    (JSON.parse(readFileSync(join(repoRoot, 'connector-agent/package.json'), 'utf8')) as { version: string }).version;
  if (!VERSION_PATTERN.test(version))
    throw new InfraError(
      InfraErrorCode.badConfig,
      `release version ${JSON.stringify(version)} is not like 1.2.3 or 1.2.3-rc.1`,
    );
  const platforms = options.platforms ?? AGENT_PLATFORMS;
  const commit = gitCommit();
  const key = signingKey(log);
  const runtimeVersion = readFileSync(join(repoRoot, 'infra/node-runtime.json'), 'utf8');
  const work = mkdtempSync(join(cacheRoot(), '.agent-release-'));
  try {
    const bundleDir = join(work, 'bundle');
    const define: Record<string, string> = {
      __VSC_AGENT_COMMIT__: JSON.stringify(commit),
      __VSC_AGENT_VERSION__: JSON.stringify(version),
    };
    if (key.dev) define.__VSC_RELEASE_DEV_KEY__ = JSON.stringify(key.publicKeyPem);
    const files = await bundleAgent(bundleDir, define);
    writeFileSync(join(bundleDir, 'manifest.json'), JSON.stringify({ main: 'main.js', files }));
    const launcher = join(work, 'sea-launcher.js');
    // The same sources, runtime and key build the same executables: a cache hit costs one bundle.
    const buildHash = hashFiles(
      bundleDir,
      [...files, 'manifest.json'],
      readFileSync(launcher, 'utf8') + runtimeVersion + YOUNG_GENERATION_FLAGS.join(' '),
    );
    const cached = join(cacheRoot(), 'agent-release', buildHash.slice(0, 24));
    const missing = platforms.filter((p) => !existsSync(join(cached, executableName(p))));
    if (missing.length > 0) {
      const staging = join(work, 'executables');
      mkdirSync(staging);
      const builder = pinnedRuntime('linux-x64');
      for (const platform of missing) {
        const started = Date.now();
        const output = join(staging, executableName(platform));
        const config = join(work, `sea-${platform}.json`);
        writeFileSync(
          config,
          JSON.stringify({
            main: launcher,
            executable: pinnedRuntime(platform),
            output,
            disableExperimentalSEAWarning: true,
            // The runtime's flags, as the platform's launchers give them to its other processes.
            execArgv: [...YOUNG_GENERATION_FLAGS],
            // Code cache and snapshots are tied to the platform that made them: off, so one blob fits both.
            useSnapshot: false,
            useCodeCache: false,
            assets: Object.fromEntries([...files, 'manifest.json'].map((f) => [f, join(bundleDir, f)])),
          }),
        );
        execFileSync(builder, ['--build-sea', config], { stdio: ['ignore', 'pipe', 'pipe'] });
        log(`built ${executableName(platform)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }
      // Each file lands whole (a rename): a build of one platform keeps the other's already cached.
      mkdirSync(cached, { recursive: true });
      for (const platform of missing)
        renameSync(join(staging, executableName(platform)), join(cached, executableName(platform)));
      pruneCache(dirname(cached), cached);
    } else {
      log(`executables unchanged since the last build (${cached})`);
    }

    mkdirSync(outDir, { recursive: true });
    const executables = {} as Record<AgentPlatform, string>;
    const lines: string[] = [];
    for (const platform of platforms) {
      const target = join(outDir, executableName(platform));
      rmSync(target, { force: true });
      try {
        linkSync(join(cached, executableName(platform)), target);
      } catch {
        copyFileSync(join(cached, executableName(platform)), target);
      }
      executables[platform] = target;
      lines.push(`${sha256File(target)}  ${executableName(platform)}`);
    }
    const sums = `${lines.join('\n')}\n`;
    const signature = sign(null, Buffer.from(sums), key.privateKeyPem);
    writeFileSync(join(outDir, 'SHA256SUMS'), sums);
    writeFileSync(join(outDir, 'SHA256SUMS.sig'), signature);
    writeFileSync(join(outDir, 'release-public-key.pem'), key.publicKeyPem);
    writeFileSync(
      join(outDir, 'release.json'),
      `${JSON.stringify({ version, commit, runtime: JSON.parse(runtimeVersion).version, devKey: key.dev }, null, 2)}\n`,
    );
    return {
      dir: outDir,
      version,
      commit,
      executables,
      sums: join(outDir, 'SHA256SUMS'),
      signature: join(outDir, 'SHA256SUMS.sig'),
      publicKey: join(outDir, 'release-public-key.pem'),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Keeps the four newest cached builds (each up to 280 MB): a release and the update test's two versions. */
function pruneCache(dir: string, keep: string): void {
  const builds = readdirSync(dir)
    .map((name) => join(dir, name))
    .filter((path) => path !== keep)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const old of builds.slice(3)) rmSync(old, { recursive: true, force: true });
}
