/**
 * Runs the Temporal dev server obtained through @temporalio/testing's download, for machines with
 * internet and no Go toolchain (the Go build is the route on machines without internet).
 * Started by the supervisor like any service; stops the server on SIGTERM/SIGINT.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { z } from 'zod';

const Settings = z.object({
  ip: z.string(),
  port: z.number().int(),
  uiPort: z.number().int(),
  httpPort: z.number().int(),
  metricsPort: z.number().int(),
  dbFilename: z.string(),
  downloadDir: z.string(),
  /** An existing CLI instead of the download (how the test exercises this path offline). */
  executablePath: z.string().optional(),
});

async function main(): Promise<void> {
  const s = Settings.parse(JSON.parse(process.env.VSC_TEMPORAL_DOWNLOAD_SETTINGS ?? '{}'));
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: s.executablePath
        ? { type: 'existing-path', path: s.executablePath }
        : { type: 'cached-download', downloadDir: s.downloadDir, version: 'default' },
      ip: s.ip,
      port: s.port,
      ui: true,
      uiPort: s.uiPort,
      dbFilename: s.dbFilename,
      extraArgs: ['--http-port', String(s.httpPort), '--metrics-port', String(s.metricsPort), '--log-level', 'warn'],
    },
  });
  process.stdout.write(`temporal dev server (downloaded) on ${s.ip}:${s.port}\n`);
  // The native server handle does not keep Node's event loop alive: this does, until a signal.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const stop = () => {
    clearInterval(keepAlive);
    void env.teardown().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main().catch((err) => {
  process.stderr.write(
    `could not download or start the Temporal dev server: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
