import { temporalPrometheusTelemetry } from '@vansales/metrics';
import { Runtime, DefaultLogger, type LogLevel, type LogMetadata } from '@temporalio/worker';
import { limitHeapGrowth, parseCommand, settingOrExit } from '@vansales/protocol';
import { describeTemporalConnection } from '@vansales/temporal-config';
import packageJson from '../package.json';
import { GatewayConfig, loadGatewayConfig } from './config';
import { createLogger } from './logger';
import { createGateway } from './gateway';
import { startTracing } from '@vansales/tracing';

const USAGE = `usage: vsc-gateway

  Serves the REST control plane, the agent WebSocket endpoint and the buffer routes, and runs a
  Temporal Worker for each connected agent. Takes no arguments: every setting comes from the
  environment (see gateway/README.md), and a bad one stops it naming the setting:
    ${Object.keys(GatewayConfig.shape).join(', ')}
`;

/**
 * The SDK's own log at WARN, less its notice that a Worker has no workflows: every connector Worker
 * is activity-only by design, so that line would come once per connecting agent.
 */
class SdkLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (message.startsWith('No workflows registered')) return;
    super.log(level, message, meta);
  }
}

async function main(): Promise<void> {
  const args = parseCommand(
    process.argv.slice(2),
    { usage: USAGE, version: `vsc-gateway ${packageJson.version}` },
    process,
  );
  if (!args.ok) process.exit(args.exitCode);
  const config = await settingOrExit(loadGatewayConfig);
  // The gateway streams every follower's chunks (decrypted, one per follower at a time) and buffer
  // uploads: garbage at the rate rows move. With V8's own growth factor its heap grew past the 300 MB
  // the data plane allows while 1M rows went to a site (bench/README.md, data-transfer: memory).
  await settingOrExit(limitHeapGrowth);
  const tracing = await settingOrExit(() =>
    startTracing({ serviceName: 'vsc-gateway', serviceVersion: packageJson.version }),
  );
  const logger = createLogger(config.VSC_LOG_LEVEL, 'gateway');
  if (tracing) logger.info({ endpoint: tracing.endpoint }, 'traces on');
  // No per-worker heartbeat thread: thousands of per-connector Workers share one runtime.
  Runtime.install({
    logger: new SdkLogger('WARN'),
    workerHeartbeatInterval: 0,
    // The SDK's Worker metrics on loopback, forwarded by GET /metrics.
    ...(config.VSC_TEMPORAL_METRICS_PORT
      ? { telemetryOptions: temporalPrometheusTelemetry(config.VSC_TEMPORAL_METRICS_PORT) }
      : {}),
  });
  const gateway = await createGateway(config, logger, {
    purgeSchedule: config.VSC_BUFFER_PURGE_MINUTES > 0,
    ...(tracing ? { tracing } : {}),
  });
  // Where and how (TLS, mTLS, API key), never the key or a certificate.
  logger.info({ temporal: describeTemporalConnection(config) }, 'connected to Temporal');
  const stop = async (signal: string) => {
    logger.info({ signal }, 'gateway stopping');
    await gateway.close();
    await tracing?.shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  try {
    await gateway.app.listen({ host: config.VSC_GATEWAY_HOST, port: config.VSC_GATEWAY_PORT });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'EADDRINUSE'
        ? `port ${config.VSC_GATEWAY_PORT} on ${config.VSC_GATEWAY_HOST} is already in use; set VSC_GATEWAY_PORT to another port`
        : String(err);
    logger.fatal(message);
    await gateway.close();
    process.exit(1);
  }
}

void main().catch((err) => {
  process.stderr.write(`gateway failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
