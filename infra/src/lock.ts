import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfraError, InfraErrorCode } from './errors';

/** True for a running process; a zombie (exited, not yet reaped by its parent) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust the signal check
  }
}

/**
 * One supervisor per state directory. A lock left by a supervisor that died is taken over,
 * after its orphaned children are stopped (see Supervisor.reclaim).
 */
export function acquireLock(stateDir: string, what: string): { release: () => void; stale: boolean } {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, 'supervisor.pid');
  let stale = false;
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new InfraError(
        InfraErrorCode.alreadyRunning,
        `another copy of ${what} is already running (pid ${pid}) with state in ${stateDir}. Stop it first (Ctrl-C in its terminal, or \`kill ${pid}\`).`,
      );
    }
    stale = true;
  }
  writeFileSync(file, String(process.pid));
  return {
    stale,
    release: () => {
      try {
        if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file);
      } catch {
        // already gone
      }
    },
  };
}

/** Blocks this thread for `ms` (the callers are synchronous, like the `next build` they guard). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs `fn` holding a lock file that names its holder's pid: for work two processes of one clone
 * must not do at once (Next.js refuses a second `next build` in the same folder, so two browser test
 * files starting together on a cold cache failed). Others wait; a lock whose holder died is taken over.
 * An empty file is a lock being written, not a stale one.
 */
export function withFileLock<T>(
  file: string,
  fn: () => T,
  options: { what: string; onWait?: (holder: number) => void; pollMs?: number; timeoutMs?: number },
): T {
  const { pollMs = 500, timeoutMs = 30 * 60_000 } = options;
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      continue; // released in between: try again at once
    }
    const holder = Number(text);
    if (text && Number.isInteger(holder) && holder > 0 && !isAlive(holder)) {
      rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new InfraError(
        InfraErrorCode.alreadyRunning,
        `${options.what} of process ${text || '?'} still holds ${file} after ${Math.round(timeoutMs / 1000)} s`,
      );
    if (!told && holder > 0) options.onWait?.(holder);
    told = true;
    sleepSync(pollMs);
  }
  try {
    return fn();
  } finally {
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file);
    } catch {
      // already gone
    }
  }
}
