import { createServer, type Server } from 'node:net';
import { mkdtempSync, readFileSync, readdirSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  acquireLock,
  assertPortFree,
  isPortOpen,
  InfraError,
  Supervisor,
  type ServiceContext,
  type ServiceSpec,
} from '@vansales/infra';

function listen(port = 0): Promise<Server> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}
const portOf = (s: Server) => (s.address() as { port: number }).port;
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Live (non-zombie) processes of a process group, polled until none are left or time runs out. */
async function groupMembersAfter(pgid: number, ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const members = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .flatMap((d) => {
        try {
          const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          return fields[2] === String(pgid) && fields[0] !== 'Z' ? [Number(d)] : [];
        } catch {
          return [];
        }
      });
    if (members.length === 0 || Date.now() > deadline) return members;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function ctxFor(dir: string): ServiceContext {
  return {
    profile: 'test',
    stateDir: dir,
    ports: {} as ServiceContext['ports'],
    secrets: {} as ServiceContext['secrets'],
    log: () => undefined,
  };
}

const LOOPBACK = '127.0.0.1';
/**
 * A loopback connect to a listening port answers at once; the wait only has to outlast a test process
 * whose event loop is held by the parallel unit tier (its 500 ms default lost that race once in CI).
 */
const OPEN_WAIT_MS = 10_000;

/** A tiny real server process: listens on a port, and starts a grandchild that must die with it. */
function echoService(port: number): ServiceSpec {
  const script = `
    const { spawn } = require('node:child_process');
    spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    // A port probe connects and resets at once: unhandled, that ECONNRESET killed the service (the flake).
    require('node:net').createServer((s) => { s.on('error', () => {}); s.end('hi'); }).listen(${port}, '127.0.0.1');
  `;
  return {
    name: 'echo',
    ports: () => [port],
    readyTimeoutMs: 10_000,
    launch: () => ({ command: process.execPath, args: ['-e', script] }),
    ready: async () => isPortOpen(port),
  };
}

describe('supervisor', () => {
  it('names the port and its owner when a port is taken', async () => {
    const server = await listen();
    const port = portOf(server);
    await expect(assertPortFree(port, 'temporal')).rejects.toThrow(
      new RegExp(`port ${port} on 127.0.0.1 \\(wanted by temporal\\) is already in use`),
    );
    server.close();
    await expect(assertPortFree(port, 'temporal')).resolves.toBeUndefined();
  });

  it('refuses a second copy on the same state folder and names the running pid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsc-lock-'));
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    writeFileSync(join(dir, 'supervisor.pid'), String(child.pid));
    try {
      expect(() => acquireLock(dir, 'vsc up')).toThrow(InfraError);
      expect(() => acquireLock(dir, 'vsc up')).toThrow(
        new RegExp(`another copy of vsc up is already running \\(pid ${child.pid}\\)`),
      );
    } finally {
      child.kill();
    }
  });

  it('takes over a lock whose owner died', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsc-lock-'));
    writeFileSync(join(dir, 'supervisor.pid'), '999999');
    const lock = acquireLock(dir, 'vsc up');
    expect(lock.stale).toBe(true);
    expect(readFileSync(join(dir, 'supervisor.pid'), 'utf8')).toBe(String(process.pid));
    lock.release();
    expect(existsSync(join(dir, 'supervisor.pid'))).toBe(false);
  });

  it('starts a service, waits until it answers, and stops it with its children, leaving no process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsc-sup-'));
    const probe = await listen();
    const port = portOf(probe);
    probe.close();
    const supervisor = new Supervisor(ctxFor(dir));
    await supervisor.start(echoService(port));
    expect(await isPortOpen(port, LOOPBACK, OPEN_WAIT_MS)).toBe(true);
    const pid = Number(readFileSync(join(dir, 'pids', 'echo.pid'), 'utf8').split('\n')[0]);
    expect(alive(pid)).toBe(true);
    await supervisor.stopAll();
    expect(alive(pid)).toBe(false);
    expect(await isPortOpen(port)).toBe(false);
    // The grandchild shared the service's process group and went with it.
    expect(await groupMembersAfter(pid, 3000)).toEqual([]);
  });

  it('kills a child that left the process group, as PostgreSQL backends do (setsid)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsc-sup-'));
    const pidFile = join(dir, 'detached.pid');
    const script = `
      const { spawn } = require('node:child_process');
      const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', detached: true });
      require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(c.pid));
      setInterval(() => {}, 1000);
    `;
    const supervisor = new Supervisor(ctxFor(dir));
    await supervisor.start({
      name: 'detacher',
      ports: () => [],
      readyTimeoutMs: 10_000,
      launch: () => ({ command: process.execPath, args: ['-e', script] }),
      ready: async () => existsSync(pidFile),
    });
    const detached = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(detached)).toBe(true);
    await supervisor.kill('detacher');
    const stat = () => {
      try {
        return readFileSync(`/proc/${detached}/stat`, 'utf8');
      } catch {
        return '';
      }
    };
    // Gone, or a zombie waiting for its reaper (its memory and files released).
    expect(stat() === '' || / Z /.test(stat())).toBe(true);
  });

  it('kills one service with its process group (a crash for fault tests) and starts it again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsc-sup-'));
    const probe = await listen();
    const port = portOf(probe);
    probe.close();
    const supervisor = new Supervisor(ctxFor(dir));
    let unexpected = 0;
    supervisor.onUnexpectedExit = () => (unexpected += 1);
    await supervisor.start(echoService(port));
    const pid = Number(readFileSync(join(dir, 'pids', 'echo.pid'), 'utf8').split('\n')[0]);
    await supervisor.kill('echo');
    expect(alive(pid)).toBe(false);
    expect(await groupMembersAfter(pid, 3000)).toEqual([]);
    expect(await isPortOpen(port)).toBe(false);
    await supervisor.start(echoService(port));
    expect(await isPortOpen(port, LOOPBACK, OPEN_WAIT_MS)).toBe(true);
    await supervisor.stopAll();
    // A kill asked for is not an unexpected exit.
    expect(unexpected).toBe(0);
    await expect(supervisor.kill('echo')).rejects.toThrow(/echo is not running/);
  });

  it('reports a service that exits while starting, with the end of its log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsc-sup-'));
    const supervisor = new Supervisor(ctxFor(dir));
    const failing: ServiceSpec = {
      name: 'broken',
      ports: () => [],
      readyTimeoutMs: 10_000,
      launch: () => ({
        command: process.execPath,
        args: ['-e', 'console.error("cannot open data folder"); process.exit(3)'],
      }),
      ready: async () => false,
    };
    await expect(supervisor.start(failing)).rejects.toThrow(
      /broken exited with code 3 while starting[\s\S]*cannot open data folder/,
    );
    await supervisor.stopAll();
  });

  it('stops children an earlier supervisor left behind when it was killed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsc-sup-'));
    mkdirSync(join(dir, 'pids'));
    const orphan = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
    writeFileSync(join(dir, 'pids', 'temporal.pid'), `${orphan.pid}\n${process.execPath}`);
    // A pid file whose pid now runs another program is left alone.
    const bystander = spawn('sleep', ['30'], { stdio: 'ignore' });
    writeFileSync(join(dir, 'pids', 'redis.pid'), `${bystander.pid}\nredis-server`);
    const reclaimed = await new Supervisor(ctxFor(dir)).reclaim();
    expect(reclaimed).toEqual(['temporal']);
    expect(alive(bystander.pid!)).toBe(true);
    bystander.kill();
    const deadline = Date.now() + 10_000;
    while (alive(orphan.pid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(alive(orphan.pid!)).toBe(false);
  });
});
