import { spawn } from 'node:child_process';
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
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let info: unknown;
      for (let i = 0; i < 150 && !info; i++) {
        try {
          const c = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: 500 });
          info = await c.workflowService.getSystemInfo({});
          await c.close();
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      expect(info).toBeDefined();
      expect((await fetch(`http://127.0.0.1:${uiPort}/`, { signal: AbortSignal.timeout(10_000) })).ok).toBe(true);
      expect(existsSync(settings.dbFilename)).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 60_000);
});
