import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, linkSync, renameSync, rmSync } from 'node:fs';
import type pino from 'pino';
import type { AgentUpdateOffer } from '@vansales/protocol';
import type { GatewayAuth } from '../gateway-auth';
import type { SiteUpdatePolicy } from '../policy/site-policy';
import { downloadExecutable, fetchVerifiedSums, UpdateRefusedError } from './release-download';
import { readUpdateState, withFailure, writeUpdateState, type UpdateState } from './update-state';

/** The environment variable that makes `run` an update's trial (connect once, record it, exit). */
export const UPDATE_TRIAL_ENV = 'VSC_AGENT_UPDATE_TRIAL';
/** The exit code asking a service manager to start the agent again where it cannot exec itself (Windows). */
export const RESTART_EXIT_CODE = 75;

/** The files an update keeps beside the executable. */
export function updateFiles(executable: string) {
  return {
    download: `${executable}.download`,
    next: `${executable}.next`,
    previous: `${executable}.previous`,
  };
}

/**
 * Whether this process is the single executable (its launcher, sea-launcher.ts, leaves the cleanup
 * of its unpacked scripts here). Not `node:sea`'s isSea(): bundlers drop the `node:` prefix, and
 * `sea` alone is no module.
 */
export function runsAsSingleExecutable(): boolean {
  return typeof (globalThis as { __vscSeaCleanup?: unknown }).__vscSeaCleanup === 'function';
}

/**
 * Replaces this process with `executable` (exec: the same process id, so a service manager keeps
 * tracking it). Where Node cannot exec (Windows), exits with RESTART_EXIT_CODE for the service
 * wrapper to start the agent again (WinSW's onfailure restart; systemd's Restart=on-failure).
 */
export async function restartInto(executable: string, args: readonly string[], log: pino.Logger): Promise<never> {
  // pino writes asynchronously: what it still holds (the line saying why) would go with the process image.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    log.flush(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  // The single executable's unpacked scripts: exec skips the exit handler that removes them.
  (globalThis as { __vscSeaCleanup?: () => void }).__vscSeaCleanup?.();
  if (typeof process.execve === 'function') process.execve(executable, [executable, ...args], process.env);
  process.exit(RESTART_EXIT_CODE);
}

/** Puts `source` at `executable` in one rename, keeping the old one as `previous`. */
function swapIn(executable: string, source: string, previous: string): void {
  rmSync(previous, { force: true });
  if (process.platform === 'win32') {
    // A running .exe cannot be replaced on Windows, but it can be renamed.
    renameSync(executable, previous);
  } else {
    try {
      linkSync(executable, previous);
    } catch {
      copyFileSync(executable, previous);
    }
  }
  renameSync(source, executable);
}

export interface UpdaterOptions {
  agent: { pause(maxWaitMs: number): Promise<void>; resume(): void };
  auth: GatewayAuth;
  log: pino.Logger;
  /** The running single executable. */
  executable: string;
  /** Its arguments (`run --config …`), for the trial and the restart. */
  args: readonly string[];
  statePath: string;
  version: string;
  /** The site policy's `updates`, read at each offer (an edit applies to the next one). */
  policy: () => SiteUpdatePolicy;
  /** The release keys to verify with: the pinned ones, plus the dev key when the policy allows it. */
  trustedKeys: (allowDevelopmentKey: boolean) => string[];
  restart?: typeof restartInto;
}

/**
 * The agent's side of signed updates (issue 13 §5). For each offer the site policy allows: fetch the
 * release's sums and verify their signature under the pinned keys, download the executable and check
 * its sha256 against the signed sum, then prove it in a trial (the agent leaves the gateway, the new
 * executable connects once and records that, while this process, the known good version, waits for
 * it: a version that crashes at once or cannot connect never replaces anything). Only then is it
 * swapped in (one rename; the old executable kept as `.previous`) and this process execs it; its
 * first start must connect again within the deadline or it rolls back (settleSwitchAtStart).
 */
export function createUpdater(opts: UpdaterOptions) {
  const { log } = opts;
  const files = updateFiles(opts.executable);
  let busy = false;

  const record = (update: (s: UpdateState) => UpdateState) =>
    writeUpdateState(opts.statePath, update(readUpdateState(opts.statePath)));

  async function trial(offer: AgentUpdateOffer, deadlineMs: number): Promise<string | undefined> {
    record((s) => ({ ...s, trial: undefined }));
    const child = spawn(files.next, [...opts.args], {
      env: { ...process.env, [UPDATE_TRIAL_ENV]: '1' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const exited = new Promise<string>((resolve) => {
      child.once('error', (err) => resolve(`could not start: ${err.message}`));
      child.once('exit', (code, signal) => resolve(signal ? `stopped by ${signal}` : `exited with code ${code}`));
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    const how = await exited;
    clearTimeout(timer);
    const proven = readUpdateState(opts.statePath).trial;
    if (proven && proven.pid === child.pid && proven.version === offer.version) return undefined;
    if (proven && proven.pid === child.pid)
      return `the new executable says it is ${proven.version}, not the offered ${offer.version}`;
    return `version ${offer.version} did not connect to the gateway within ${deadlineMs / 1000} s (${how})`;
  }

  async function take(offer: AgentUpdateOffer, policy: SiteUpdatePolicy): Promise<void> {
    if (policy.allowDevelopmentKey)
      log.warn(
        'the site policy allows updates signed by the development release key (updates.allowDevelopmentKey): for development and tests only',
      );
    const signed = await fetchVerifiedSums(opts.auth, offer, opts.trustedKeys(policy.allowDevelopmentKey));
    rmSync(files.download, { force: true });
    await downloadExecutable(opts.auth, offer, signed, files.download);
    chmodSync(files.download, 0o755);
    renameSync(files.download, files.next);
    log.info({ version: offer.version }, `verified the signature and sha256 of ${offer.version}; trying it`);

    await opts.agent.pause(60_000);
    const failure = await trial(offer, policy.connectDeadlineSeconds * 1000);
    if (failure) {
      rmSync(files.next, { force: true });
      record((s) => withFailure({ ...s, trial: undefined }, offer.version, 'rolled-back', failure));
      log.error(
        { version: offer.version },
        `update to ${offer.version} rolled back, staying on ${opts.version}: ${failure}`,
      );
      opts.agent.resume();
      return;
    }
    swapIn(opts.executable, files.next, files.previous);
    record((s) => ({
      ...s,
      trial: undefined,
      switched: { from: opts.version, to: offer.version, at: new Date().toISOString(), starts: 0 },
    }));
    log.info({ from: opts.version, to: offer.version }, `updated to ${offer.version}; restarting into it`);
    await (opts.restart ?? restartInto)(opts.executable, opts.args, log);
  }

  return {
    /** Considers an offer; refusals and failures are logged and recorded, never thrown. */
    offer(offer: AgentUpdateOffer): Promise<void> {
      if (busy) return Promise.resolve();
      let policy: SiteUpdatePolicy;
      try {
        policy = opts.policy();
      } catch (err) {
        log.error(`not updating: ${(err as Error).message}`);
        return Promise.resolve();
      }
      const skip = (why: string) => {
        log.info({ offered: offer.version }, `not updating to ${offer.version}: ${why}`);
        return Promise.resolve();
      };
      if (offer.version === opts.version) return Promise.resolve();
      if (policy.mode === 'off') return skip('updates are off in the site policy (updates.mode "off")');
      if (policy.mode === 'pinned' && policy.version !== offer.version)
        return skip(`the site policy pins version ${policy.version}`);
      const failed = readUpdateState(opts.statePath).failed.find((f) => f.version === offer.version);
      if (failed) return skip(`it failed here before (${failed.reason})`);
      busy = true;
      return take(offer, policy)
        .catch((err: unknown) => {
          rmSync(files.download, { force: true });
          rmSync(files.next, { force: true });
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
            // Not worth a download at every reconnection: recorded until the folder is made writable.
            record((s) =>
              withFailure(
                s,
                offer.version,
                'refused',
                `the executable's folder is not writable (${code}): ${(err as Error).message}`,
              ),
            );
            log.error({ version: offer.version }, `cannot update to ${offer.version}: ${(err as Error).message}`);
          } else if (err instanceof UpdateRefusedError) {
            record((s) => withFailure(s, offer.version, 'refused', err.message));
            log.error({ version: offer.version }, `refused the update to ${offer.version}: ${err.message}`);
          } else {
            // The gateway or the disk failed: tried again at the next offer.
            log.warn({ version: offer.version }, `could not update to ${offer.version}: ${(err as Error).message}`);
          }
          opts.agent.resume();
        })
        .finally(() => (busy = false));
    },
  };
}

/**
 * At the start of `run`: whether this start is the first of a version just switched to (it must
 * connect before `deadline` or roll back: `confirm`/`expired`), or a later start of one that never
 * connected, which goes back to the previous executable at once (restarting into it).
 */
export async function settleSwitchAtStart(opts: {
  executable: string;
  args: readonly string[];
  statePath: string;
  version: string;
  log: pino.Logger;
  restart?: typeof restartInto;
}): Promise<{ pending: false } | { pending: true; confirm(): void; rollBack(reason: string): Promise<never> }> {
  const state = readUpdateState(opts.statePath);
  const switched = state.switched;
  if (!switched) return { pending: false };
  if (switched.to !== opts.version) {
    // Not the version switched to (rolled back by hand, or reinstalled): nothing to confirm.
    writeUpdateState(opts.statePath, { ...state, switched: undefined });
    return { pending: false };
  }
  const { previous } = updateFiles(opts.executable);
  const rollBack = (reason: string): Promise<never> => {
    if (!existsSync(previous)) {
      opts.log.error(
        `version ${opts.version} ${reason}, and there is no previous executable (${previous}) to go back to`,
      );
      throw new Error(`cannot roll back: ${previous} is missing`);
    }
    renameSync(previous, opts.executable);
    writeUpdateState(
      opts.statePath,
      withFailure({ ...readUpdateState(opts.statePath), switched: undefined }, opts.version, 'rolled-back', reason),
    );
    opts.log.error(`version ${opts.version} ${reason}: rolled back to ${switched.from}`);
    return (opts.restart ?? restartInto)(opts.executable, opts.args, opts.log);
  };
  // Resolves never: the process becomes the previous executable (or exits for the service manager).
  if (switched.starts >= 1) await rollBack('started before without connecting to the gateway');
  writeUpdateState(opts.statePath, { ...state, switched: { ...switched, starts: switched.starts + 1 } });
  return {
    pending: true,
    confirm() {
      const now = readUpdateState(opts.statePath);
      writeUpdateState(opts.statePath, {
        ...now,
        switched: undefined,
        last: { version: opts.version, outcome: 'updated', at: new Date().toISOString() },
      });
      opts.log.info(
        { from: switched.from, to: opts.version },
        `update to ${opts.version} confirmed: connected to the gateway`,
      );
    },
    rollBack,
  };
}

/** In a trial run: records that this version connected (the waiting agent reads it), by its pid. */
export function recordTrialWelcome(statePath: string, version: string): void {
  const state = readUpdateState(statePath);
  writeUpdateState(statePath, {
    ...state,
    trial: { version, pid: process.pid, welcomedAt: new Date().toISOString() },
  });
}
