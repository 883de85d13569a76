/**
 * Runs the Temporal dev server obtained through @temporalio/testing's download, for machines with
 * internet and no Go toolchain (the Go build is the route on machines without internet).
 * Started by the supervisor like any service; stops the server on SIGTERM/SIGINT.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
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

/** Phases on stderr with their times, so a slow or stuck start says where it stood. */
const started = Date.now();
const phase = (what: string) => process.stderr.write(`[temporal-download +${Date.now() - started} ms] ${what}\n`);

async function main(): Promise<void> {
  const s = Settings.parse(JSON.parse(process.env.VSC_TEMPORAL_DOWNLOAD_SETTINGS ?? '{}'));
  // Our handlers go in before the SDK's: its Runtime catches SIGTERM/SIGINT to drain workers and
  // never exits, so a stop asked for while the server is still starting would leave this process
  // (and the server it later spawns) running with nobody to stop it.
  const started: { env?: TestWorkflowEnvironment } = {};
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    phase('stop asked');
    if (!started.env) process.exit(0);
    void started.env.teardown().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  phase('loading the SDK');
  // Loaded here, not at the top, so its load time shows among the phases.
  const { TestWorkflowEnvironment: Environment } = await import('@temporalio/testing');
  if (stopping) process.exit(0);
  phase(s.executablePath ? `starting ${s.executablePath}` : `downloading into ${s.downloadDir}`);
  const env = (started.env = await Environment.createLocal({
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
  }));
  if (stopping) {
    await env.teardown();
    process.exit(0);
  }
  phase('server answering');
  process.stdout.write(`temporal dev server (downloaded) on ${s.ip}:${s.port}\n`);
  // The native server handle does not keep Node's event loop alive: this does, until a signal.
  setInterval(() => undefined, 1 << 30);
}

void main().catch((err) => {
  process.stderr.write(
    `could not download or start the Temporal dev server: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
