import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFileLock } from '../src/lock';

/** The lock that keeps two `next build`s of one clone apart (two browser test files on a cold cache). */
describe('withFileLock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-file-lock-'));
  const file = join(dir, 'build.lock');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A real other process; `releaseAfterMs` makes it remove the lock itself, like a finished build. */
  const holder = (releaseAfterMs?: number) => {
    const script =
      releaseAfterMs === undefined
        ? 'setTimeout(() => {}, 60000)'
        : `setTimeout(() => require('fs').rmSync(${JSON.stringify(file)}, { force: true }), ${releaseAfterMs})`;
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    writeFileSync(file, String(child.pid));
    return child;
  };

  it('waits while another live process holds it, then runs and releases it', () => {
    const child = holder(300);
    const waitedFor: number[] = [];
    const out = withFileLock(file, () => (existsSync(file) ? 'ran holding it' : 'ran without it'), {
      what: 'a build',
      pollMs: 20,
      onWait: (pid) => waitedFor.push(pid),
    });
    expect(out).toBe('ran holding it');
    expect(waitedFor).toEqual([child.pid]);
    expect(existsSync(file)).toBe(false);
    child.kill();
  });

  it('gives up with a clear error when the holder never lets go, without running', () => {
    const child = holder();
    let ran = false;
    expect(() =>
      withFileLock(file, () => (ran = true), { what: 'the console build', pollMs: 20, timeoutMs: 200 }),
    ).toThrow(`the console build of process ${child.pid} still holds ${file}`);
    expect(ran).toBe(false);
    child.kill();
  });

  it('takes over a lock whose holder died', async () => {
    const child = holder();
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(withFileLock(file, () => 'ran', { what: 'a build', pollMs: 20, timeoutMs: 5_000 })).toBe('ran');
    expect(existsSync(file)).toBe(false);
  });
});
