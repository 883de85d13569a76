import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import {
  clipDoctorText,
  DOCTOR_LIMITS,
  type DoctorReport,
  type DoctorSeverity,
  type DoctorWarning,
} from '@vansales/protocol';
import { readSitePolicyFile, SitePolicyError } from '../policy/site-policy';
import type { SiteDatabase } from '../site-database/site-database';
import { keyFileProblem } from '../vault/key-file-access';
import { VAULT_FILE, VAULT_KEY_FILE } from '../vault/vault';

/** The runtime the agent is released on (infra/node-runtime.json); older ones are not tested. */
export const SUPPORTED_NODE = { major: 26, minor: 10 } as const;
/** Clocks further apart than this break the agent's proofs' expiry and make audit times disagree. */
export const MAX_CLOCK_SKEW_MS = 30_000;
/** A database that does not answer its privilege check within this is reported, not waited for. */
const DATABASE_CHECK_TIMEOUT_MS = 15_000;

export interface DoctorDeps {
  /** The configured database names. */
  databaseNames: string[];
  /** The agent's own connection to each (shared with its tasks: no second login). */
  database: (name: string) => SiteDatabase | undefined;
  policyFile?: string;
  /** The folder of agent.json and the vault, when the agent was started from a file. */
  stateDir?: string;
  /** Injected by tests: the home folder, the Node version, the platform and the clock. */
  homeDir?: string;
  nodeVersion?: string;
  platform?: NodeJS.Platform;
  now?: () => number;
}

/** What the gateway said at its welcome (its clock). */
export interface DoctorContext {
  gatewayTime?: string;
}

const warning = (
  check: string,
  severity: DoctorSeverity,
  message: string,
  action: string,
  database?: string,
): DoctorWarning => ({
  check,
  severity,
  message: clipDoctorText(message, DOCTOR_LIMITS.messageChars),
  action: clipDoctorText(action, DOCTOR_LIMITS.actionChars),
  ...(database ? { database: database.slice(0, DOCTOR_LIMITS.databaseChars) } : {}),
});

const withTimeout = <T>(work: Promise<T>, ms: number): Promise<T> =>
  new Promise((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'TIMEOUT' })),
      ms,
    );
    work.then(
      (v) => {
        clearTimeout(timer);
        resolvePromise(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err as Error);
      },
    );
  });

/**
 * Whether each login could write (what `mini-connector doctor` prints). Only the driver's error code
 * travels on a failure: its message may name the login and the host, which stay on the site.
 */
export async function databaseChecks(deps: DoctorDeps): Promise<DoctorWarning[]> {
  const out: DoctorWarning[] = [];
  for (const name of deps.databaseNames) {
    const site = deps.database(name);
    if (!site) continue;
    try {
      const report = await withTimeout(site.privileges(), DATABASE_CHECK_TIMEOUT_MS);
      if (report.canWrite)
        out.push(
          warning(
            'database.can-write',
            'warning',
            `the login of database ${name} can write: ${report.findings.join('; ')}. The agent refuses writes itself, but a read-only login is the last line.`,
            `Give the agent a read-only login (then run mini-connector doctor on the site):\n${report.recommendation}`,
            name,
          ),
        );
    } catch (err) {
      const e = err as { code?: string; cause?: { code?: string } };
      const code = e.cause?.code ?? e.code ?? 'unknown error';
      out.push(
        warning(
          'database.unreachable',
          'error',
          `database ${name} could not be checked: ${code}`,
          "Check that the database is up and reachable from this machine and that the login in agent.json is valid (mini-connector doctor on the site prints the driver's full message).",
          name,
        ),
      );
    }
  }
  return out;
}

/** A broken policy file refuses everything it governs: the site should know before a step fails. */
export function policyChecks(deps: DoctorDeps): DoctorWarning[] {
  try {
    readSitePolicyFile(deps.policyFile);
    return [];
  } catch (err) {
    if (!(err instanceof SitePolicyError)) throw err;
    return [
      warning(
        'policy.invalid',
        'error',
        `${err.message}; until it is fixed every load, write and API call it governs is refused`,
        'Fix the file (JSON, see the agent README "Site policy"); the agent reads it again on the next task, no restart needed.',
      ),
    ];
  }
}

/** The agent's clock against the gateway's at the welcome (the round trip is far below the limit). */
export function clockChecks(deps: DoctorDeps, ctx: DoctorContext): DoctorWarning[] {
  if (!ctx.gatewayTime) return [];
  const skewMs = (deps.now ?? Date.now)() - Date.parse(ctx.gatewayTime);
  if (!Number.isFinite(skewMs) || Math.abs(skewMs) <= MAX_CLOCK_SKEW_MS) return [];
  const seconds = Math.round(Math.abs(skewMs) / 1000);
  return [
    warning(
      'clock.skew',
      'warning',
      `this machine's clock is ${seconds} s ${skewMs > 0 ? 'ahead of' : 'behind'} the gateway's: challenges may expire early and the site's audit times disagree with the gateway's`,
      'Turn on time synchronisation (timedatectl set-ntp true, chrony, or w32tm /resync on Windows).',
    ),
  ];
}

/** The Node.js runtime the agent runs on (the released executables embed the supported one). */
export function runtimeChecks(deps: DoctorDeps): DoctorWarning[] {
  const version = deps.nodeVersion ?? process.versions.node;
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const { major: m, minor: n } = SUPPORTED_NODE;
  if (major > m || (major === m && minor >= n)) return [];
  return [
    warning(
      'runtime.version',
      'warning',
      `the agent runs on Node.js ${version}; it is released and tested on ${m}.${n} or newer`,
      'Run the released mini-connector executable (it embeds its runtime), or install Node.js ' + `${m}.${n} or newer.`,
    ),
  ];
}

const isUnder = (path: string, folder: string) =>
  path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);

/** The vault's key and file private to the agent's user; its folder not listable by others; not in a home folder. */
export function stateChecks(deps: DoctorDeps): DoctorWarning[] {
  if (!deps.stateDir) return [];
  const dir = resolve(deps.stateDir);
  const out: DoctorWarning[] = [];
  const keyFile = join(dir, VAULT_KEY_FILE);
  if (existsSync(keyFile)) {
    const problem = keyFileProblem(keyFile, deps.platform ? { platform: deps.platform } : {});
    if (problem)
      out.push(
        warning(
          'vault.permissions',
          'error',
          `the vault key ${keyFile}: ${problem}`,
          "Make the key readable by the agent's user only (mini-connector service install sets it); the agent refuses to open a vault whose key others can read at its next start.",
        ),
      );
  }
  const unix = (deps.platform ?? process.platform) !== 'win32';
  const vaultFile = join(dir, VAULT_FILE);
  if (unix && existsSync(vaultFile) && statSync(vaultFile).mode & 0o077)
    out.push(
      warning(
        'vault.permissions',
        'error',
        `the vault ${vaultFile} can be read by other users`,
        `Run: chmod 600 ${vaultFile}`,
      ),
    );
  if (unix && existsSync(dir) && statSync(dir).mode & 0o077)
    out.push(
      warning(
        'state.permissions',
        'warning',
        `the agent's folder ${dir} (configuration, vault, audit chain) can be listed by other users`,
        `Run: chmod 700 ${dir}`,
      ),
    );
  const home = resolve(deps.homeDir ?? homedir());
  if (isUnder(dir, home) || /^(\/home\/|\/root\/|\/Users\/|[A-Za-z]:\\Users\\)/.test(dir + sep))
    out.push(
      warning(
        'state.home-folder',
        'info',
        `the agent's configuration and vault are in a home folder (${dir}): they then belong to a person, not to the service`,
        'Install the agent as a service (mini-connector service install): it keeps its state in a folder of its own, owned by its own system user.',
      ),
    );
  return out;
}

/**
 * The checks of `mini-connector doctor` that make sense on a running agent, as one bounded report
 * for the gateway. Cheap: one privilege query per database (on the agent's own connection), a few
 * stats and the policy file read.
 */
export async function runDoctorChecks(deps: DoctorDeps, ctx: DoctorContext = {}): Promise<DoctorReport> {
  const warnings = [
    ...(await databaseChecks(deps)),
    ...policyChecks(deps),
    ...clockChecks(deps, ctx),
    ...runtimeChecks(deps),
    ...stateChecks(deps),
  ];
  return {
    checkedAt: new Date((deps.now ?? Date.now)()).toISOString(),
    warnings: warnings.slice(0, DOCTOR_LIMITS.warnings),
  };
}
