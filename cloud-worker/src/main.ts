import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { parseCommand } from '@vansales/protocol';
import packageJson from '../package.json';
import { CloudWorkerConfig, loadCloudWorkerConfig } from './config';
import { cloudDepsFromEnv, createCloudActivityWorker, createCloudWorker } from './cloud-worker';

const USAGE = `usage: vsc-cloud-worker

  Runs the workflows and the cloud activities: polls Temporal for workflow tasks and the cloud task
  queue. Takes no arguments: every setting comes from the environment (see cloud-worker/README.md):
    ${Object.keys(CloudWorkerConfig.shape).join(', ')}
`;

async function main(): Promise<void> {
  const args = parseCommand(
    process.argv.slice(2),
    { usage: USAGE, version: `vsc-cloud-worker ${packageJson.version}` },
    process,
  );
  if (!args.ok) process.exit(args.exitCode);
  let config;
  try {
    config = loadCloudWorkerConfig();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  Runtime.install({ logger: new DefaultLogger('WARN'), workerHeartbeatInterval: 0 });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  let deps;
  try {
    deps = await cloudDepsFromEnv(config);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const workers = [
    await createCloudWorker(config, connection),
    await createCloudActivityWorker(config, connection, deps),
  ];
  process.stdout.write(`cloud worker polling ${config.TEMPORAL_ADDRESS} namespace ${config.TEMPORAL_NAMESPACE}\n`);
  // Worker.run installs its own SIGINT/SIGTERM handling and drains before it resolves.
  await Promise.all(workers.map((w) => w.run()));
  await connection.close();
}

void main().catch((err) => {
  process.stderr.write(`cloud worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
