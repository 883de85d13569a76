import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertPortFree, waitFor } from './ports';
import { isAlive } from './lock';
import { InfraError, InfraErrorCode } from './errors';
import type { ServiceContext, ServiceSpec } from './service';
import { privateStateDir } from './private-state';

interface Running {
  spec: ServiceSpec;
  child: ChildProcess;
  exited: Promise<number | null>;
  stopping: boolean;
}

export function tailFile(path: string, lines = 15): string {
  if (!existsSync(path)) return '';
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Starts services as children in their own process groups (so Ctrl-C reaches only us and we stop
 * them in order), records their pids, and stops them in reverse order.
 */
export class Supervisor {
  private readonly running: Running[] = [];
  private shuttingDown = false;
  onUnexpectedExit?: (name: string, code: number | null) => void;

  constructor(private readonly ctx: ServiceContext) {}

  private pidDir(): string {
    return join(this.ctx.stateDir, 'pids');
  }

  logFile(name: string): string {
    return join(this.ctx.stateDir, 'logs', `${name}.log`);
  }

  /** Stops children a previous supervisor left behind when it was killed without a chance to clean up. */
  async reclaim(): Promise<string[]> {
    const dir = this.pidDir();
    if (!existsSync(dir)) return [];
    const reclaimed: string[] = [];
    for (const file of readdirSync(dir)) {
      const [pidText = '', command = ''] = readFileSync(join(dir, file), 'utf8').split('\n');
      const pid = Number(pidText.trim());
      // Only a process still running the recorded command: a reused pid belongs to someone else.
      if (Number.isInteger(pid) && pid > 1 && isAlive(pid) && commandOf(pid) === command) {
        reclaimed.push(file.replace(/\.pid$/, ''));
        await killGroup(pid, 10_000);
      }
      rmSync(join(dir, file), { force: true });
    }
    return reclaimed;
  }

  async start(spec: ServiceSpec): Promise<void> {
    for (const port of spec.ports(this.ctx)) await assertPortFree(port, spec.name);
    await spec.prepare?.(this.ctx);
    const launch = spec.launch(this.ctx);
    // Logs can hold what a service printed about its data: for this user only.
    privateStateDir(join(this.ctx.stateDir, 'logs'));
    privateStateDir(this.pidDir());
    const logPath = this.logFile(spec.name);
    const fd = openSync(logPath, 'a');
    const child = spawn(launch.command, launch.args, {
      cwd: launch.cwd,
      env: { ...process.env, ...launch.env },
      stdio: ['ignore', fd, fd],
      detached: true,
      uid: launch.user?.uid,
      gid: launch.user?.gid,
    });
    closeSync(fd);
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
      child.once('error', (err) => {
        writeFileSync(logPath, `\nspawn failed: ${err.message}\n`, { flag: 'a' });
        resolve(127);
      });
    });
    const entry: Running = { spec, child, exited, stopping: false };
    this.running.push(entry);
    if (child.pid) writeFileSync(join(this.pidDir(), `${spec.name}.pid`), `${child.pid}\n${launch.command}`);
    void exited.then((code) => {
      if (child.pid) rmSync(join(this.pidDir(), `${spec.name}.pid`), { force: true });
      if (!entry.stopping && !this.shuttingDown) this.onUnexpectedExit?.(spec.name, code);
    });

    let died: number | null | undefined;
    // A child that exits while starting fails the start at once, not after the ready timeout.
    const diedWhileStarting = exited.then((code) => {
      died = code;
      throw new InfraError(InfraErrorCode.serviceFailed, `${spec.name} exited with code ${code} while starting`);
    });
    diedWhileStarting.catch(() => undefined);
    try {
      await Promise.race([
        waitFor(
          spec.name,
          () => spec.ready(this.ctx),
          spec.readyTimeoutMs,
          200,
          () => died !== undefined,
        ),
        diedWhileStarting,
      ]);
      await spec.afterReady?.(this.ctx);
    } catch (err) {
      const tail = tailFile(logPath);
      const message = err instanceof Error ? err.message : String(err);
      throw new InfraError(InfraErrorCode.serviceFailed, `${message}\n--- last lines of ${logPath} ---\n${tail}`);
    }
  }

  /**
   * Kills one running service with SIGKILL (its whole process group) and waits until it is gone: a
   * crash, not a stop, for the fault tests. `start(spec)` brings it back on the same data folder.
   */
  async kill(name: string): Promise<void> {
    const index = this.running.findIndex((r) => r.spec.name === name);
    const entry = this.running[index];
    if (!entry) throw new InfraError(InfraErrorCode.badConfig, `${name} is not running under this supervisor`);
    entry.stopping = true;
    // Every descendant, not only the process group: PostgreSQL's backends call setsid() and leave the
    // postmaster's group, and one still tearing down keeps the shared memory block, so a restart on the
    // same folder refuses to start ("pre-existing shared memory block is still in use").
    const family = entry.child.pid ? [entry.child.pid, ...descendantsOf(entry.child.pid)] : [];
    if (entry.child.pid && entry.child.exitCode === null && entry.child.signalCode === null) {
      try {
        process.kill(-entry.child.pid, 'SIGKILL');
      } catch {
        entry.child.kill('SIGKILL');
      }
    }
    for (const pid of family.slice(1)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await entry.exited;
    if (entry.child.pid) await waitUntilGroupGone(entry.child.pid, 10_000);
    await waitUntilAllGone(family.slice(1), 10_000);
    this.running.splice(index, 1);
  }

  /**
   * Stops every started child and resolves when all have exited: last started first, or all at
   * once for independent services.
   */
  async stopAll(options: { parallel?: boolean } = {}): Promise<void> {
    this.shuttingDown = true;
    const stopOne = async (entry: Running) => {
      entry.stopping = true;
      if (entry.child.pid && entry.child.exitCode === null && entry.child.signalCode === null) {
        await killGroup(entry.child.pid, entry.spec.stopTimeoutMs ?? 15_000, entry.exited);
      }
    };
    const entries = [...this.running].reverse();
    if (options.parallel) await Promise.all(entries.map(stopOne));
    else for (const entry of entries) await stopOne(entry);
    this.running.length = 0;
  }
}

function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
  } catch {
    return undefined;
  }
}

async function killGroup(pid: number, timeoutMs: number, exited?: Promise<unknown>): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  const gone = exited ?? waitUntilDead(pid, timeoutMs);
  const timedOut = await Promise.race([
    gone.then(() => false),
    new Promise<boolean>((r) => setTimeout(() => r(true), timeoutMs).unref()),
  ]);
  if (timedOut) {
    signal('SIGKILL');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 2000).unref())]);
  }
  // Children of the service itself (its own process group) must not outlive it.
  signal('SIGKILL');
  await waitUntilGroupGone(pid, 5_000);
}

/** Live (not zombie) members of a process group, read from /proc (Linux); none where /proc is absent. */
function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command (which may hold spaces and parentheses): state, ppid, pgrp, ...
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') members.push(Number(entry));
    } catch {
      // the process left while we read
    }
  }
  return members;
}

/** Every process below `pid` in the parent tree, read from /proc (Linux); none where /proc is absent. */
function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process left while we read
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** Whether a process still runs (a zombie has released its memory and files: it counts as gone). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntilAllGone(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && pids.some(running)) await new Promise((r) => setTimeout(r, 50));
}

async function waitUntilGroupGone(pgid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && groupMembers(pgid).length > 0) await new Promise((r) => setTimeout(r, 50));
}

async function waitUntilDead(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && isAlive(pid)) await new Promise((r) => setTimeout(r, 100));
}
