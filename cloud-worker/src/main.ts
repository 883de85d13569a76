import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { forwardMetrics, startStatusServer, temporalPrometheusTelemetry, type StatusServer } from '@vansales/metrics';
import { limitHeapGrowth, parseCommand, settingOrExit } from '@vansales/protocol';
import { describeTemporalConnection, temporalConnectionOptions } from '@vansales/temporal-config';
import { startTracing } from '@vansales/tracing';
import packageJson from '../package.json';
import { CloudWorkerConfig, loadCloudWorkerConfig } from './config';
import { cloudDepsFromEnv, createCloudActivityWorker, createCloudWorker } from './cloud-worker';
import { cloudWorkerReadiness, createCloudWorkerMetrics } from './worker-metrics';

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
  const config = await settingOrExit(loadCloudWorkerConfig);
  // Before the workflow thread and the row batches: the heap stays near its live data.
  await settingOrExit(limitHeapGrowth);
  const connectionOptions = await settingOrExit(() => temporalConnectionOptions(config));
  const tracing = await settingOrExit(() =>
    startTracing({ serviceName: 'vsc-cloud-worker', serviceVersion: packageJson.version }),
  );
  if (tracing) process.stdout.write(`traces to ${tracing.endpoint}\n`);
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    workerHeartbeatInterval: 0,
    ...(config.VSC_TEMPORAL_METRICS_PORT
      ? { telemetryOptions: temporalPrometheusTelemetry(config.VSC_TEMPORAL_METRICS_PORT) }
      : {}),
  });
  const connection = await NativeConnection.connect(connectionOptions);
  const role = config.VSC_CLOUD_WORKER_ROLE;
  const workers: Worker[] = [];
  const metrics =
    config.VSC_CLOUD_WORKER_METRICS_PORT !== undefined ? createCloudWorkerMetrics(packageJson.version) : undefined;
  let status: StatusServer | undefined;
  if (metrics) {
    const port = config.VSC_CLOUD_WORKER_METRICS_PORT ?? 0;
    try {
      status = await startStatusServer({
        host: config.VSC_CLOUD_WORKER_METRICS_HOST,
        port,
        registry: metrics.registry,
        readiness: cloudWorkerReadiness(connection, () => workers),
        ...(config.VSC_TEMPORAL_METRICS_PORT
          ? { extraMetrics: forwardMetrics(`http://127.0.0.1:${config.VSC_TEMPORAL_METRICS_PORT}/metrics`) }
          : {}),
      });
    } catch (err) {
      process.stderr.write(
        `cannot serve metrics on ${config.VSC_CLOUD_WORKER_METRICS_HOST}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; set VSC_CLOUD_WORKER_METRICS_PORT to a free port\n`,
      );
      process.exit(2);
    }
    process.stdout.write(
      `cloud worker metrics and readiness on http://${config.VSC_CLOUD_WORKER_METRICS_HOST}:${status.port}/metrics, /readyz\n`,
    );
  }
  if (role !== 'activities') workers.push(await createCloudWorker(config, connection, tracing));
  if (role !== 'workflows') {
    const deps = await settingOrExit(() => cloudDepsFromEnv(config));
    workers.push(await createCloudActivityWorker(config, connection, deps, metrics, tracing));
  }
  const polling = { all: 'workflows and cloud activities', workflows: 'workflows', activities: 'cloud activities' }[
    role
  ];
  process.stdout.write(`cloud worker polling ${describeTemporalConnection(config)} for ${polling}\n`);
  // Worker.run installs its own SIGINT/SIGTERM handling and drains before it resolves.
  await Promise.all(workers.map((w) => w.run()));
  await status?.close();
  await tracing?.shutdown();
  await connection.close();
}

void main().catch((err) => {
  process.stderr.write(`cloud worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
