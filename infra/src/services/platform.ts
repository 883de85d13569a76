import { createPrivateKey, createPublicKey } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { YOUNG_GENERATION_FLAGS } from '@vansales/protocol';
import { repoRoot } from '../paths';
import type { ServiceContext, ServiceSpec } from '../service';
import { temporalAddress, TEMPORAL_NAMESPACE } from './temporal';
import { redisUrl } from './redis';
import {
  ensureMetadataStore,
  grantCloudWorker,
  metadataUrl,
  UP_METADATA_STORE,
  type MetadataStore,
} from './metadata-store';

/**
 * glibc gives threads malloc arenas of their own (up to 8 per core) and keeps what they freed: the
 * threads that inflate and compress chunks (libuv's pool) and the Temporal core's held 20-30 MB more
 * in the cloud worker while it loaded rows (bench/README.md, data-transfer). Two arenas cap that.
 * And glibc raises its mmap threshold to the largest block freed (chunks are MBs), after which
 * freed chunk buffers stay in its heap instead of going back to the system: the loading process's
 * RSS stayed ~70 MB above its live data after a load. A fixed 128 KB threshold keeps large buffers
 * mapped, so what V8 frees leaves the process. A process cannot set either for itself once started,
 * so the launcher does. An operator's own values win.
 */
export function nativeMemoryEnv(): Record<string, string> {
  return {
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
    MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072',
  };
}

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
      args: [...YOUNG_GENERATION_FLAGS, '--enable-source-maps', join(repoRoot, script)],
      env: { ...nativeMemoryEnv(), ...env(ctx) },
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

/** Where `up` puts the gateway's registry signing key (from secrets.json) for VSC_REGISTRY_SIGNING_KEY_FILE. */
export function registryKeyFile(ctx: Pick<ServiceContext, 'stateDir'>): string {
  return join(ctx.stateDir, 'registry-signing-key.pem');
}

const registryKeyPem = (ctx: Pick<ServiceContext, 'secrets'>) =>
  Buffer.from(ctx.secrets.registrySigningKey, 'base64').toString('utf8');

/** The registry key's public half as VSC_REGISTRY_TRUSTED_KEYS wants it (base64 SPKI DER), as GET /v1/agent/registry-keys lists it. */
export function registryPublicKey(ctx: Pick<ServiceContext, 'secrets'>): string {
  return createPublicKey(createPrivateKey(registryKeyPem(ctx)))
    .export({ type: 'spki', format: 'der' })
    .toString('base64');
}

/** Writes the key file 0600 (again when secrets.json holds another key: the file follows it). */
function writeRegistryKey(ctx: ServiceContext): void {
  const file = registryKeyFile(ctx);
  const pem = registryKeyPem(ctx);
  if (existsSync(file) && readFileSync(file, 'utf8') === pem) return;
  writeFileSync(file, pem, { mode: 0o600 });
  chmodSync(file, 0o600);
}

export interface PlatformOptions {
  /** The metadata store's database and logins on the profile's PostgreSQL (default: UP_METADATA_STORE). */
  metadataStore?: MetadataStore;
  /** Settings over the defaults, for both processes (a test's own task queues, loopback stand-in APIs). */
  env?: Record<string, string>;
}

/**
 * The gateway and the cloud worker as `./vsc up` runs them. Both use the metadata store on the
 * profile's PostgreSQL: the gateway as its owner (it migrates it at start), the cloud worker with a
 * login limited to its API operation steps (registry read, api_calls insert, credentials read and
 * refresh), granted once the gateway is ready. The worker verifies registry artifacts under the
 * gateway's public key and opens credentials with the same master keys. Secrets travel in the
 * environment or 0600 files, never in argv.
 */
export function platformProcesses(options: PlatformOptions = {}): { gateway: ServiceSpec; cloudWorker: ServiceSpec } {
  const store = options.metadataStore ?? UP_METADATA_STORE;
  const overrides = options.env ?? {};
  const gateway = nodeProcess(
    'gateway',
    'gateway/dist/main.js',
    (ctx) => ({
      VSC_GATEWAY_HOST: '127.0.0.1',
      VSC_AUDIT_SIGNING_KEY: ctx.secrets.auditSigningKey,
      // The credential REST; the cloud worker opens the same store with the same keys.
      VSC_CREDENTIALS_KEYS: ctx.secrets.credentialsKeys,
      VSC_GATEWAY_PORT: String(ctx.ports.gateway),
      VSC_ADMIN_TOKEN: ctx.secrets.adminToken,
      TEMPORAL_ADDRESS: temporalAddress(ctx),
      TEMPORAL_NAMESPACE,
      DATABASE_URL: metadataUrl(ctx, store, 'gateway'),
      VSC_REGISTRY_SIGNING_KEY_FILE: registryKeyFile(ctx),
      VSC_PAYLOAD_KEYS: ctx.secrets.payloadKeys,
      // One node, but as in production: its agent sessions are leased in Redis (VSC_GATEWAY_CLUSTER=redis).
      VSC_REDIS_URL: redisUrl(ctx),
      ...bufferEnv(ctx),
      // Loopback dev: the Temporal Web UI decodes payloads through the gateway without a token.
      VSC_CODEC_AUTH: 'none',
      VSC_CODEC_CORS_ORIGIN: `http://127.0.0.1:${ctx.ports.temporalUi}`,
      // The console calls the REST API from the browser, from its own origin.
      VSC_CONSOLE_ORIGINS: consoleOrigins(ctx).join(','),
      ...overrides,
    }),
    {
      ports: (ctx) => [ctx.ports.gateway],
      async prepare(ctx) {
        await ensureMetadataStore(ctx, store);
        writeRegistryKey(ctx);
      },
      async ready(ctx) {
        const res = await fetch(`${gatewayUrl(ctx)}/healthz`, { signal: AbortSignal.timeout(1000) });
        return res.ok;
      },
      // The gateway migrated the store at start: the tables the worker's grants name exist now.
      afterReady: (ctx) => grantCloudWorker(ctx, store),
    },
  );
  const workflowQueue = overrides.VSC_WORKFLOW_TASK_QUEUE ?? 'workflows';
  const cloudWorker = nodeProcess(
    'cloud-worker',
    'cloud-worker/dist/main.js',
    (ctx) => ({
      TEMPORAL_ADDRESS: temporalAddress(ctx),
      TEMPORAL_NAMESPACE,
      VSC_PAYLOAD_KEYS: ctx.secrets.payloadKeys,
      ...bufferEnv(ctx),
      // API operation steps (cloud-worker's apiOperationsOf): the registry's records and the credential
      // store through the worker's own login, artifacts verified under the gateway's public key.
      DATABASE_URL: metadataUrl(ctx, store, 'worker'),
      VSC_REGISTRY_TRUSTED_KEYS: registryPublicKey(ctx),
      VSC_CREDENTIALS_KEYS: ctx.secrets.credentialsKeys,
      ...overrides,
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
            taskQueue: { name: workflowQueue },
            taskQueueType: 1, // workflow
          });
          return (res.pollers?.length ?? 0) > 0;
        } finally {
          await connection.close();
        }
      },
    },
  );
  return { gateway, cloudWorker };
}

export const { gateway: gatewayProcess, cloudWorker: cloudWorkerProcess } = platformProcesses();

export function agentProcess(
  configPath: string,
  connectorOnline: (ctx: ServiceContext) => Promise<boolean>,
): ServiceSpec {
  return nodeProcess('agent', 'connector-agent/dist/main.js', () => ({}), {
    ports: () => [],
    launch: () => ({
      command: process.execPath,
      args: [
        ...YOUNG_GENERATION_FLAGS,
        '--enable-source-maps',
        join(repoRoot, 'connector-agent/dist/main.js'),
        'run',
        '--config',
        configPath,
      ],
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
