import { join } from 'node:path';
import { repoRoot } from '../paths';
import type { ServiceContext, ServiceSpec } from '../service';
import { temporalAddress, TEMPORAL_NAMESPACE } from './temporal';
import { redisUrl } from './redis';

/** Our own processes, started from their builds (dist/) like any other service. */
function nodeProcess(
  name: string,
  script: string,
  env: (ctx: ServiceContext) => Record<string, string>,
  extra: Partial<ServiceSpec> & Pick<ServiceSpec, 'ready' | 'ports'>,
): ServiceSpec {
  return {
    name,
    readyTimeoutMs: 60_000,
    stopTimeoutMs: 10_000,
    launch: (ctx) => ({
      command: process.execPath,
      args: ['--enable-source-maps', join(repoRoot, script)],
      env: env(ctx),
      cwd: repoRoot,
    }),
    ...extra,
  };
}

export function gatewayUrl(ctx: Pick<ServiceContext, 'ports'>): string {
  return `http://127.0.0.1:${ctx.ports.gateway}`;
}

/** The buffer, shared by the gateway and the cloud worker: one local folder in the state folder, this profile's keys. */
function bufferEnv(ctx: ServiceContext): Record<string, string> {
  return {
    VSC_BUFFER_DIR: join(ctx.stateDir, 'buffer'),
    VSC_BUFFER_KEYS: ctx.secrets.bufferKeys,
    VSC_BUFFER_TOKEN_SECRET: ctx.secrets.bufferTokenSecret,
  };
}

export const gatewayProcess = nodeProcess(
  'gateway',
  'gateway/dist/main.js',
  (ctx) => ({
    VSC_GATEWAY_HOST: '127.0.0.1',
    VSC_AUDIT_SIGNING_KEY: ctx.secrets.auditSigningKey,
    // The credential REST; the cloud worker cannot reach the embedded store, so it reads VSC_CLOUD_CREDENTIALS_FILE.
    VSC_CREDENTIALS_KEYS: ctx.secrets.credentialsKeys,
    VSC_GATEWAY_PORT: String(ctx.ports.gateway),
    VSC_ADMIN_TOKEN: ctx.secrets.adminToken,
    TEMPORAL_ADDRESS: temporalAddress(ctx),
    TEMPORAL_NAMESPACE,
    // Embedded default: PGlite in the state folder, owned by the gateway alone.
    VSC_METADATA_DIR: join(ctx.stateDir, 'metadata'),
    VSC_PAYLOAD_KEYS: ctx.secrets.payloadKeys,
    // One node, but as in production: its agent sessions are leased in Redis (VSC_GATEWAY_CLUSTER=redis).
    VSC_REDIS_URL: redisUrl(ctx),
    ...bufferEnv(ctx),
    // Loopback dev: the Temporal Web UI decodes payloads through the gateway without a token.
    VSC_CODEC_AUTH: 'none',
    VSC_CODEC_CORS_ORIGIN: `http://127.0.0.1:${ctx.ports.temporalUi}`,
    // The console calls the REST API from the browser, from its own origin.
    VSC_CONSOLE_ORIGINS: consoleOrigins(ctx).join(','),
  }),
  {
    ports: (ctx) => [ctx.ports.gateway],
    async ready(ctx) {
      const res = await fetch(`${gatewayUrl(ctx)}/healthz`, { signal: AbortSignal.timeout(1000) });
      return res.ok;
    },
  },
);

export const cloudWorkerProcess = nodeProcess(
  'cloud-worker',
  'cloud-worker/dist/main.js',
  (ctx) => ({
    TEMPORAL_ADDRESS: temporalAddress(ctx),
    TEMPORAL_NAMESPACE,
    VSC_PAYLOAD_KEYS: ctx.secrets.payloadKeys,
    ...bufferEnv(ctx),
  }),
  {
    ports: () => [],
    readyTimeoutMs: 120_000,
    async ready(ctx) {
      // Ready means Temporal sees a poller on the workflow task queue.
      const { connectTemporalClient } = await import('@vansales/temporal-config');
      const connection = await connectTemporalClient({ address: temporalAddress(ctx) });
      try {
        const res = await connection.workflowService.describeTaskQueue({
          namespace: TEMPORAL_NAMESPACE,
          taskQueue: { name: 'workflows' },
          taskQueueType: 1, // workflow
        });
        return (res.pollers?.length ?? 0) > 0;
      } finally {
        await connection.close();
      }
    },
  },
);

export function agentProcess(
  configPath: string,
  connectorOnline: (ctx: ServiceContext) => Promise<boolean>,
): ServiceSpec {
  return nodeProcess('agent', 'connector-agent/dist/main.js', () => ({}), {
    ports: () => [],
    launch: () => ({
      command: process.execPath,
      args: ['--enable-source-maps', join(repoRoot, 'connector-agent/dist/main.js'), 'run', '--config', configPath],
      cwd: repoRoot,
    }),
    ready: connectorOnline,
  });
}

export function consoleUrl(ctx: Pick<ServiceContext, 'ports'>): string {
  return `http://127.0.0.1:${ctx.ports.console}`;
}

/** The names a person may open the console by on this machine. */
function consoleOrigins(ctx: Pick<ServiceContext, 'ports'>): string[] {
  return [consoleUrl(ctx), `http://localhost:${ctx.ports.console}`];
}

/** The web console: a built Next.js standalone server (ensureConsoleBuild's folder), on loopback. */
export function consoleProcess(buildDir: string): ServiceSpec {
  const server = join(buildDir, 'console', 'server.js');
  return nodeProcess('console', server, () => ({}), {
    ports: (ctx) => [ctx.ports.console],
    launch: (ctx) => ({
      command: process.execPath,
      args: [server],
      env: { PORT: String(ctx.ports.console), HOSTNAME: '127.0.0.1', NEXT_TELEMETRY_DISABLED: '1' },
      cwd: join(buildDir, 'console'),
    }),
    async ready(ctx) {
      const res = await fetch(consoleUrl(ctx), { signal: AbortSignal.timeout(1000) });
      return res.ok;
    },
  });
}
