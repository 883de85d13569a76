import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { binCacheDir, repoRoot } from './paths';
import { InfraError, InfraErrorCode } from './errors';

export type Logger = (line: string) => void;

export function which(binary: string): string | undefined {
  if (binary.startsWith('/')) return existsSync(binary) ? binary : undefined;
  // The name is an argument of the script, never part of its text: nothing in it is run by the shell.
  const result = spawnSync('sh', ['-c', 'command -v -- "$1"', 'sh', binary], { encoding: 'utf8' });
  const found = result.stdout.trim();
  return result.status === 0 && found ? found : undefined;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

let aptUpdated = false;

/**
 * Installs Debian packages whose probe binary is missing. Runs only when something is missing,
 * so a warm start costs one `command -v` per package.
 */
export function ensureAptPackages(wanted: { probe: string | (() => boolean); pkg: string }[], log: Logger): void {
  // A probe is a binary the package installs, or a check for packages without one (python3-venv).
  const present = (probe: string | (() => boolean)) => (typeof probe === 'string' ? !!which(probe) : probe());
  const missing = wanted.filter((w) => !present(w.probe)).map((w) => w.pkg);
  if (missing.length === 0) return;
  const unique = [...new Set(missing)];
  if (!isRoot()) {
    throw new InfraError(
      InfraErrorCode.installFailed,
      `missing Debian packages: ${unique.join(' ')}. Run \`sudo apt-get install -y ${unique.join(' ')}\` once, then start again.`,
    );
  }
  log(`installing ${unique.join(', ')} from Debian packages (first run only)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...unique], { env, encoding: 'utf8' });
  let result = install();
  if (result.status !== 0 && !aptUpdated) {
    aptUpdated = true;
    spawnSync('apt-get', ['update', '-q'], { env, encoding: 'utf8' });
    result = install();
  }
  if (result.status !== 0) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-8).join('\n');
    throw new InfraError(InfraErrorCode.installFailed, `apt-get install ${unique.join(' ')} failed:\n${tail}`);
  }
}

/**
 * Debian's tinyproxy and iproute2 (`ip netns`): the real HTTPS proxy, and the network namespace the
 * agent runs in, of the agent's proxy test (e2e/test/agent-proxy.e2e.test.ts).
 */
export function ensureProxyTestTools(log: Logger): { tinyproxy: string; ip: string } {
  ensureAptPackages(
    [
      { probe: 'tinyproxy', pkg: 'tinyproxy' },
      { probe: 'ip', pkg: 'iproute2' },
    ],
    log,
  );
  return { tinyproxy: which('tinyproxy') as string, ip: which('ip') as string };
}

/**
 * Debian's Prometheus server, which the metrics e2e test runs against the gateway, the cloud worker and
 * the agent (e2e/test/prometheus.e2e.test.ts), started by the test itself on a port of its own. The
 * package enables and, where systemd runs, starts its own service on :9090: a machine that just got
 * it has that service stopped and disabled, so nothing of it keeps running beside the tests.
 */
export function ensurePrometheus(log: Logger): string {
  const wasThere = !!which('prometheus');
  ensureAptPackages([{ probe: 'prometheus', pkg: 'prometheus' }], log);
  if (!wasThere && which('systemctl'))
    spawnSync('systemctl', ['disable', '--now', 'prometheus.service'], { encoding: 'utf8', stdio: 'ignore' });
  return which('prometheus') as string;
}

export function goBinary(): string | undefined {
  return which('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

/** True when a Go-built tool is already cached or can be built here. */
export function canProvideGoBinary(spec: GoBinary): boolean {
  return (
    !!process.env[spec.overrideEnv] || existsSync(join(binCacheDir(), `${spec.name}-${spec.version}`)) || !!goBinary()
  );
}

export interface GoBinary {
  name: string;
  module: string;
  version: string;
  /** Environment variable that may point at an existing binary instead. */
  overrideEnv: string;
  /** The name `go install` gives the binary (the package's last path element), when it is not `name`. */
  builtAs?: string;
}

/**
 * Returns the path of a Go-built tool, building it once with `go install` into the machine-wide
 * cache. The cached name carries the version, so a version bump rebuilds and never reuses a stale one.
 */
export function ensureGoBinary(spec: GoBinary, log: Logger): string {
  const override = process.env[spec.overrideEnv];
  if (override) {
    if (!existsSync(override)) {
      throw new InfraError(InfraErrorCode.badConfig, `${spec.overrideEnv}=${override} does not exist`);
    }
    return override;
  }
  const dir = binCacheDir();
  const target = join(dir, `${spec.name}-${spec.version}`);
  if (existsSync(target)) return target;
  const go = goBinary();
  if (!go) {
    throw new InfraError(
      InfraErrorCode.installFailed,
      `${spec.name} is not built yet and Go is not installed. Install Go (https://go.dev/dl) or set ${spec.overrideEnv} to an existing ${spec.name} binary.`,
    );
  }
  mkdirSync(dir, { recursive: true });
  const gobin = mkdtempSync(join(dir, `.build-${spec.name}-`));
  log(`building ${spec.name} ${spec.version} with go install (first run only, several minutes)`);
  const started = Date.now();
  try {
    execFileSync(go, ['install', `${spec.module}@${spec.version}`], {
      env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false' },
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
    rmSync(gobin, { recursive: true, force: true });
    throw new InfraError(
      InfraErrorCode.installFailed,
      `go install ${spec.module}@${spec.version} failed:\n${stderr.split('\n').slice(-10).join('\n')}`,
    );
  }
  renameSync(join(gobin, spec.builtAs ?? spec.name), target);
  rmSync(gobin, { recursive: true, force: true });
  log(`built ${spec.name} in ${Math.round((Date.now() - started) / 1000)} s -> ${target}`);
  return target;
}

export const TEMPORAL_CLI: GoBinary = {
  name: 'temporal',
  module: 'github.com/temporalio/cli/cmd/temporal',
  // Later tags carry a replace directive and cannot be go-installed.
  version: 'v1.5.1',
  overrideEnv: 'VSC_TEMPORAL_BIN',
};

export const MINIO: GoBinary = {
  name: 'minio',
  module: 'github.com/minio/minio',
  // MinIO release tags are not semver; pin the commit as Go's pseudo-version.
  version: 'v0.0.0-20260212201848-7aac2a2c5b7c',
  overrideEnv: 'VSC_MINIO_BIN',
};

/**
 * The real Temporal server (frontend, history, matching and worker services in one process) and its
 * schema tool, for the production topology (`./vsc topology`): PostgreSQL persistence instead of the
 * CLI dev server's SQLite. v1.29.1 is the server the CLI above embeds, so a machine that built the CLI
 * has most of its packages compiled already; v1.32.2 (the newest served) asks for Go 1.26.10, newer
 * than the machines' 1.26.8.
 */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';

export const TEMPORAL_SERVER: GoBinary = {
  name: 'temporal-server',
  module: 'go.temporal.io/server/cmd/server',
  version: TEMPORAL_SERVER_VERSION,
  overrideEnv: 'VSC_TEMPORAL_SERVER_BIN',
  builtAs: 'server',
};

export const TEMPORAL_SQL_TOOL: GoBinary = {
  name: 'temporal-sql-tool',
  module: 'go.temporal.io/server/cmd/tools/sql',
  version: TEMPORAL_SERVER_VERSION,
  overrideEnv: 'VSC_TEMPORAL_SQL_TOOL_BIN',
  builtAs: 'sql',
};

/**
 * The server's PostgreSQL schema (schema/postgresql/v12 of the same module), copied once from Go's
 * module cache (where the build above put the module) into the binary cache beside the binaries.
 */
export function ensureTemporalSchema(log: Logger): string {
  const target = join(binCacheDir(), `temporal-schema-${TEMPORAL_SERVER_VERSION}`);
  if (existsSync(target)) return target;
  const go = goBinary();
  if (!go)
    throw new InfraError(
      InfraErrorCode.installFailed,
      `the Temporal server schema is not cached yet and Go is not installed (it comes from go.temporal.io/server@${TEMPORAL_SERVER_VERSION})`,
    );
  const modDir = execFileSync(
    go,
    ['list', '-m', '-f', '{{.Dir}}', `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`],
    {
      encoding: 'utf8',
      env: { ...process.env, GOFLAGS: '-mod=mod' },
    },
  ).trim();
  const staging = `${target}.copy-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  cpSync(join(modDir, 'schema', 'postgresql', 'v12'), staging, { recursive: true });
  // The module cache is read-only: the copy must be writable to be replaced or deleted later.
  execFileSync('chmod', ['-R', 'u+w,go+rX', staging]);
  renameSync(staging, target);
  log(`copied the Temporal ${TEMPORAL_SERVER_VERSION} PostgreSQL schema -> ${target}`);
  return target;
}

/**
 * The topology's Temporal server, its schema tool and schema, built before the tests when a run may
 * include the topology soak test: its first build takes minutes (8 min 41 s on a loaded 2-core machine),
 * longer than the test's own start-up budget. Cached per machine, so later runs only check the files.
 */
export function ensureTopologyTools(log: Logger): void {
  if (!canProvideGoBinary(TEMPORAL_SERVER)) {
    log('Go is not installed and the Temporal server is not built: the topology test will fail');
    return;
  }
  ensureGoBinary(TEMPORAL_SERVER, log);
  ensureGoBinary(TEMPORAL_SQL_TOOL, log);
  ensureTemporalSchema(log);
}

/**
 * The OpenAPI breaking-change checker the SDK factory's registry runs (issue 11). Its cached name is
 * the default path the registry looks at (sdk-factory/src/registry/config.ts: oasdiffBinaryPath).
 */
export const OASDIFF: GoBinary = {
  name: 'oasdiff',
  module: 'github.com/oasdiff/oasdiff',
  version: 'v1.39.0',
  overrideEnv: 'VSC_OASDIFF_BIN',
};

/**
 * Debian tools the unit tier runs (no service): the agent's service tests check the systemd unit they
 * write with `systemd-analyze verify`, which needs the systemd package but no running systemd; the
 * topology's HAProxy configuration is checked with `haproxy -c`.
 */
export function ensureUnitTools(log: Logger): void {
  ensureAptPackages(
    [
      { probe: 'systemd-analyze', pkg: 'systemd' },
      { probe: 'haproxy', pkg: 'haproxy' },
    ],
    log,
  );
}

/**
 * Tools the tests run besides the services (oasdiff, the OpenTelemetry Collector of the trace tests),
 * built once per machine when Go can. Their paths go into the environment of the tests
 * (VSC_OASDIFF_BIN, VSC_OTEL_RECEIVER_BIN). Without Go and without a cached build this
 * only says so: the tests that need the tool then fail with the registry's own instructions.
 */
export function ensureTestTools(log: Logger): void {
  if (!canProvideGoBinary(OASDIFF)) {
    log('Go is not installed and oasdiff is not built: the SDK factory registry tests that compare versions will fail');
    return;
  }
  process.env[OASDIFF.overrideEnv] = ensureGoBinary(OASDIFF, log);
  // The trace tests' OpenTelemetry Collector (e2e/test/support/otel-receiver.ts finds it through the variable).
  try {
    process.env[OTEL_RECEIVER.overrideEnv] = ensureLocalGoBinary(OTEL_RECEIVER, log);
  } catch (err) {
    log(`${(err as Error).message}\nthe trace tests (e2e/test/traces.e2e.test.ts) will fail`);
  }
}

/** A Go program kept in this repository (infra/go/<name>), built like the tools above. */
export interface LocalGoBinary {
  name: string;
  /** Environment variable that may point at an existing binary instead. */
  overrideEnv: string;
}

/**
 * Returns the path of a Go program of infra/go/, building it once per machine into the binary
 * cache. The cached name carries a hash of its sources, so an edit rebuilds and a stale build is
 * never reused. The program pins the same modules as a tool we already build (its go.mod and
 * go.sum are copies), so on a machine that built that tool this is mostly a link.
 */
export function ensureLocalGoBinary(spec: LocalGoBinary, log: Logger): string {
  const override = process.env[spec.overrideEnv];
  if (override) {
    if (!existsSync(override))
      throw new InfraError(InfraErrorCode.badConfig, `${spec.overrideEnv}=${override} does not exist`);
    return override;
  }
  const source = join(repoRoot, 'infra', 'go', spec.name);
  const hash = createHash('sha256');
  for (const file of readdirSync(source).sort()) hash.update(file).update(readFileSync(join(source, file)));
  const dir = binCacheDir();
  const target = join(dir, `${spec.name}-${hash.digest('hex').slice(0, 12)}`);
  if (existsSync(target)) return target;
  const go = goBinary();
  if (!go)
    throw new InfraError(
      InfraErrorCode.installFailed,
      `${spec.name} is not built yet and Go is not installed. Install Go (https://go.dev/dl) or set ${spec.overrideEnv} to an existing ${spec.name} binary.`,
    );
  mkdirSync(dir, { recursive: true });
  const output = `${target}.build-${process.pid}`;
  log(`building ${spec.name} with go build (first run on this machine, a few minutes)`);
  const started = Date.now();
  try {
    // -mod=mod: go.mod lists the whole module graph of the tool it was copied from, not a tidy one.
    execFileSync(go, ['build', '-mod=mod', '-o', output, '.'], {
      cwd: source,
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false' },
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
    rmSync(output, { force: true });
    throw new InfraError(
      InfraErrorCode.installFailed,
      `go build of infra/go/${spec.name} failed:\n${stderr.split('\n').slice(-10).join('\n')}`,
    );
  }
  renameSync(output, target);
  log(`built ${spec.name} in ${Math.round((Date.now() - started) / 1000)} s -> ${target}`);
  return target;
}

/** An embedded Temporal server whose frontend speaks TLS/mTLS: what tests of secured connections use. */
export const TEMPORAL_TLS_SERVER: LocalGoBinary = {
  name: 'temporal-tls-server',
  overrideEnv: 'VSC_TEMPORAL_TLS_SERVER_BIN',
};

/**
 * An OpenTelemetry Collector of our own component list (infra/go/otel-receiver: the collector's OTLP
 * receiver and the contrib file exporter): the real OTLP receiver the trace tests export to. The
 * upstream distributions cannot be `go install`ed (their go.mod replaces modules), and this one builds
 * in about 3 minutes on 2 cores where a whole distribution takes far longer.
 */
export const OTEL_RECEIVER: LocalGoBinary = {
  name: 'otel-receiver',
  overrideEnv: 'VSC_OTEL_RECEIVER_BIN',
};
