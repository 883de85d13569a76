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
