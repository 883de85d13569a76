import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';

const root = join(__dirname, '..', '..');
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/**
 * The no-Go route: the dev server run through @temporalio/testing. The download itself needs the
 * internet (not here), so the test hands it the CLI this machine already built; everything else
 * (ports, db file, UI, shutdown) is the real path.
 */
describe('Temporal through @temporalio/testing (the route for machines without Go)', () => {
  const binDir = process.env.VSC_BIN_CACHE ?? join(process.env.HOME ?? '/root', '.cache', 'vansales-connect', 'bin');
  const cli = existsSync(binDir) ? readdirSync(binDir).find((f) => f.startsWith('temporal-v')) : undefined;

  let running: ChildProcess | undefined;
  // A test that fails midway must not leave the script (or the server it spawned) behind.
  afterAll(() => {
    if (running?.pid) process.kill(-running.pid, 'SIGKILL');
  });

  it('starts the dev server with our ports and db file, and stops on SIGTERM', async () => {
    expect(cli).toBeDefined();
    const [port, uiPort, httpPort, metricsPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const dir = mkdtempSync(join(tmpdir(), 'vsc-tdl-'));
    const settings = {
      ip: '127.0.0.1',
      port,
      uiPort,
      httpPort,
      metricsPort,
      dbFilename: join(dir, 'temporal.db'),
      downloadDir: dir,
      executablePath: join(binDir, cli!),
    };
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'infra', 'src', 'temporal-download.ts')], {
      cwd: root,
      env: { ...process.env, VSC_TEMPORAL_DOWNLOAD_SETTINGS: JSON.stringify(settings) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so afterAll can take the server down with it
    });
    running = child;
    // Everything the script says (its phases with their times) goes into any failure message.
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const ready = await Promise.race([
        new Promise<true>((resolve) => {
          const check = () => output.includes('temporal dev server (downloaded) on') && resolve(true);
          child.stdout.on('data', check);
        }),
        exited.then((code) => `exited with ${code} before answering`),
        new Promise<string>((resolve) => setTimeout(() => resolve('not answering after 100 s'), 100_000).unref()),
      ]);
      if (ready !== true) throw new Error(`${ready}; its output:\n${output}`);
      const c = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: 5_000 });
      const info = await c.workflowService.getSystemInfo({});
      await c.close();
      expect(info.serverVersion).toMatch(/^\d+\.\d+/);
      expect((await fetch(`http://127.0.0.1:${uiPort}/`, { signal: AbortSignal.timeout(10_000) })).ok).toBe(true);
      expect(existsSync(settings.dbFilename)).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    running = undefined;
  }, 150_000);
});
