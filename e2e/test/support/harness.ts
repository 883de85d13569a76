import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { RouteOptions } from 'fastify';
import { createConnection } from 'mysql2/promise';
import { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { testServices, throwawayPostgresDatabase } from '@vansales/test-kit';
import {
  apiOperationsOf,
  cloudCredentialsOf,
  createCloudActivityWorker,
  createCloudWorker,
  loadCloudWorkerConfig,
} from '@vansales/cloud-worker';
import { cloudCredentialsFrom, DEFAULT_EGRESS, firstCredentials } from '@vansales/activities/cloud';
import type { DataConnectionConfig } from '@vansales/dataflow';
import {
  Agent,
  createAgent,
  createGatewayAuth,
  parseAgentConfig,
  type AgentConfigInput,
  type AuditLog,
  type OperationTable,
} from '@vansales/connector-agent';
import { createGateway, createLogger, loadGatewayConfig, type Gateway, type Logger } from '@vansales/gateway';
import {
  connectTemporalClient,
  newPayloadKeySpec,
  temporalConnectionOptions,
  vansalesDataConverter,
} from '@vansales/temporal-config';
import { newBufferKeySpec } from '@vansales/buffer';
import { generateAgentKeyPair } from '@vansales/protocol';
import type { DefinitionStore } from '@vansales/definitions';
import {
  createApiCallRepository,
  createCredentialRepository,
  createDefinitionRepository,
  createDefinitionStore,
  type StoredApiCall,
} from '@vansales/metadata';
import { createMetadataCredentialStore, localKeyWrapper, type CredentialStore } from '@vansales/sdk-factory/auth';

export const services = testServices();

/** Every log line of every in-process component, so tests can search them (e.g. for secrets). */
export class LogCapture {
  readonly lines: string[] = [];
  logger(name: string): pino.Logger {
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    // The gateway logs through its own logger config (redaction, serializers), as in production.
    if (name === 'gateway') return createLogger('debug', name, sink) as unknown as pino.Logger;
    return pino(
      {
        name,
        level: 'debug',
        redact: {
          paths: ['password', '*.password', 'apiKey', '*.apiKey', 'req.headers.authorization'],
          censor: '[redacted]',
        },
      },
      sink,
    );
  }
}

/** The agent's database entry for Sakila on the test MariaDB, with the given login. */
export function sakilaDatabase(login: { user: string; password: string }) {
  return {
    dialect: 'mysql' as const,
    host: services.mariadb.host,
    port: services.mariadb.port,
    ...login,
    database: 'sakila',
  };
}

/** A read-only MariaDB account on Sakila, as a site would give the agent. */
export async function sakilaReader(): Promise<{ user: string; password: string }> {
  const user = `reader_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  const conn = await createConnection(services.mariadb);
  await conn.query(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY ${conn.escape(password)}`);
  await conn.query(`GRANT SELECT ON sakila.* TO '${user}'@'127.0.0.1'`);
  await conn.end();
  return { user, password };
}

export interface Platform {
  gateway: Gateway;
  gatewayWsUrl: string;
  adminToken: string;
  temporal: Client;
  workflowTaskQueue: string;
  logs: LogCapture;
  /** The gateway's local buffer folder (a fresh temporary one, removed by close). */
  bufferDir: string;
  /** VSC_BUFFER_TOKEN_SECRET of this gateway, decoded: tests issue their own (expired, forged…) tokens with it. */
  bufferTokenSecret: Buffer;
  /** Every text frame any agent sent to the gateway. */
  frames: string[];
  api<T = unknown>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: T }>;
  startAgent(
    overrides: Partial<AgentConfigInput> & { apiKey: string },
    options?: {
      audit?: AuditLog;
      secrets?: (name: string) => string | undefined;
      /** The SDK factory's artifacts by hash (the agent's artifact client). */
      artifacts?: { fetch(sha256: string, kind: 'manifest' | `bundle:${string}`): Promise<Buffer> };
      /** Wraps the agent's operations (fault injection: an answer lost after the work was done). */
      operations?: (table: OperationTable) => OperationTable;
    },
  ): ReturnType<typeof createAgent> & { welcomed: Promise<void>; logLines: () => string[] };
  /** An agent whose operations the test supplies (the agent's extension point), on the real socket. */
  startCustomAgent(apiKey: string, operations: OperationTable): { agent: Agent; welcomed: Promise<void> };
  /**
   * The key pair (private PEM) of a simulated machine: one per `machine` name, the same for every
   * agent started with that `machineId` (an agent restarted on its machine keeps its vault).
   */
  machineKey(machine?: string): string;
  /**
   * Headers that open a raw WebSocket as the agent of `machine` would: a fresh challenge signed by
   * that machine's key (enrolling it first when the key has none yet).
   */
  agentHeaders(apiKey: string, machine?: string): Promise<Record<string, string>>;
  /** VSC_PAYLOAD_KEYS of this platform (histories are encrypted with them). */
  payloadKeys: string;
  /** Task queue of this platform's cloud activities (extract, load, purge for cloud databases). */
  cloudTaskQueue: string;
  /** VSC_CONTROL_TASK_QUEUE of this platform's gateway (its control activities: definitions, cursors, sync state). */
  controlTaskQueue: string;
  /** Which databases the cloud worker reaches, per tenant (what VSC_CLOUD_DATABASES_FILE says in production). */
  setCloudDatabases(databases: Record<string, Record<string, DataConnectionConfig>>): void;
  /** The API credentials HTTP steps name, per tenant (what VSC_CLOUD_CREDENTIALS_FILE says in production). */
  setCloudCredentials(credentials: Parameters<typeof cloudCredentialsFrom>[0]): void;
  /** The tenants' credentials for API operations' security schemes (`<apiId>.<scheme>`), in the metadata store. */
  credentialStore: CredentialStore;
  /** A tenant's API operation calls as the audit (api_calls) holds them, oldest first. */
  apiCalls(tenantId: string): Promise<StoredApiCall[]>;
  close(): Promise<void>;
}

/** A new connector of `tenantId` through the REST API (201 expected): its id and its first key, shown once. */
export async function createConnector(
  platform: Pick<Platform, 'api'>,
  tenantId: string,
  name: string,
): Promise<{ id: string; apiKey: string }> {
  const res = await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, {
    name,
  });
  expect(res.status).toBe(201);
  return res.body;
}

/** Gateway + cloud worker in this process, on the real Temporal dev server and PostgreSQL. */
export async function startPlatform(
  options: {
    tls?: { certFile: string; keyFile: string };
    /** VSC_BUFFER_* settings over the defaults (a local folder store in a temporary folder). */
    buffer?: Record<string, string>;
    /** Other gateway settings (VSC_GATEWAY_*), over the defaults. */
    gateway?: Record<string, string>;
    /** TEMPORAL_* settings over the test services' (a TLS server, say), for every process of the platform. */
    temporal?: Record<string, string>;
    /** Sees every route the gateway registers. */
    onRoute?: (route: RouteOptions) => void;
    /**
     * The definition store the cloud activities read, for call steps of runs started without a control
     * queue (tests that start the interpreter directly pass an in-memory one); runs the gateway starts
     * read definitions through its control activities instead.
     */
    definitions?: DefinitionStore;
    /**
     * false: no cloud worker polls the workflow queue, so a test's own worker (a stand-in workflow)
     * gets every workflow task there.
     */
    workflowWorker?: boolean;
    /** Where the gateway's definition runs read definitions from. */
    definitionStore?: DefinitionStore;
  } = {},
): Promise<Platform> {
  const logs = new LogCapture();
  // Its own login, not a superuser, as ./vsc up gives the gateway: row-level security applies.
  const db = await throwawayPostgresDatabase('vsc_gw', { ownLogin: true });
  const adminToken = randomBytes(32).toString('base64url');
  const payloadKeys = newPayloadKeySpec('test');
  const workflowTaskQueue = `workflows-${randomBytes(4).toString('hex')}`;
  const cloudTaskQueue = `cloud-${randomBytes(4).toString('hex')}`;
  const controlTaskQueue = `control-${randomBytes(4).toString('hex')}`;
  let cloudDatabases: Record<string, Record<string, DataConnectionConfig>> = {};
  let cloudCredentials = cloudCredentialsFrom({});
  const bufferDir = mkdtempSync(join(tmpdir(), 'vsc-gw-buffer-'));
  const bufferTokenSecret = randomBytes(32);
  const env = {
    VSC_GATEWAY_PORT: '0',
    VSC_ADMIN_TOKEN: adminToken,
    TEMPORAL_ADDRESS: services.temporalAddress,
    TEMPORAL_NAMESPACE: services.temporalNamespace,
    VSC_WORKFLOW_TASK_QUEUE: workflowTaskQueue,
    VSC_CLOUD_TASK_QUEUE: cloudTaskQueue,
    // Each platform its own control queue, as its own cloud queue: another test's gateway must not answer.
    VSC_CONTROL_TASK_QUEUE: controlTaskQueue,
    DATABASE_URL: db.url,
    VSC_REDIS_URL: services.redisUrl,
    VSC_WORKFLOW_BUNDLE: process.env.VSC_TEST_WORKFLOW_BUNDLE,
    VSC_PAYLOAD_KEYS: payloadKeys,
    VSC_TLS_CERT_FILE: options.tls?.certFile,
    VSC_TLS_KEY_FILE: options.tls?.keyFile,
    VSC_BUFFER_DIR: bufferDir,
    VSC_BUFFER_KEYS: newBufferKeySpec('test'),
    VSC_BUFFER_TOKEN_SECRET: bufferTokenSecret.toString('base64'),
    VSC_AUDIT_SIGNING_KEY: generateAgentKeyPair().privateKeyPem,
    // The cloud credential store's master key, shared by the gateway (REST) and the cloud worker (HTTP steps).
    VSC_CREDENTIALS_KEYS: newBufferKeySpec('creds'),
    ...options.buffer,
    ...options.gateway,
    ...options.temporal,
  };
  const frames: string[] = [];
  const gateway = await createGateway(loadGatewayConfig(env), logs.logger('gateway') as unknown as Logger, {
    frameTap: (raw) => frames.push(raw),
    onRoute: options.onRoute,
    definitionStore: options.definitionStore,
  });
  // A port of the test's choosing (an OAuth redirect registered before the gateway starts), else any.
  const address = await gateway.app.listen({ host: '127.0.0.1', port: Number(options.gateway?.VSC_GATEWAY_PORT ?? 0) });
  const gatewayWsUrl = `${address.replace('http', 'ws')}/v1/agent/connect`;

  const cloudConfig = loadCloudWorkerConfig(env);
  const nativeConnection = await NativeConnection.connect(temporalConnectionOptions(cloudConfig));
  const worker: Worker | undefined =
    options.workflowWorker === false ? undefined : await createCloudWorker(cloudConfig, nativeConnection);
  const storeCredentials = await cloudCredentialsOf(cloudConfig);
  // The store the gateway's REST writes to (same metadata store, same VSC_CREDENTIALS_KEYS).
  const credentialStore = createMetadataCredentialStore({
    repository: createCredentialRepository(gateway.db),
    wrapper: localKeyWrapper(cloudConfig),
  });
  // API operation steps as the cloud worker process wires them (apiOperationsOf): the registry read
  // from the metadata store and verified under the gateway's registry key (VSC_REGISTRY_TRUSTED_KEYS),
  // the credential store, and every call into the audit table.
  const apiOperations = await apiOperationsOf(
    loadCloudWorkerConfig({
      ...env,
      VSC_REGISTRY_TRUSTED_KEYS: gateway.apiRegistry
        .publicKeys()
        .map((k) => k.publicKey)
        .join(','),
    }),
    gateway.buffer,
    (line) => logs.lines.push(line),
  );
  if (!apiOperations)
    throw new Error('the cloud worker wiring made no API operations: DATABASE_URL and the registry keys are set');
  const apiCallAudit = createApiCallRepository(gateway.db);
  // The cloud activities share the gateway's buffer (same store and keys, as in production).
  const activityWorker: Worker = await createCloudActivityWorker(loadCloudWorkerConfig(env), nativeConnection, {
    buffer: gateway.buffer,
    databases: { lookup: (tenantId, name) => cloudDatabases[tenantId]?.[name] },
    // The cloud worker reads definitions (call steps) from the same metadata store as the gateway.
    definitions: options.definitions ?? createDefinitionStore(createDefinitionRepository(gateway.db)),
    // Sync steps remember what both sides agreed on in the same metadata store.
    // The credential store first (credentials made through REST), then what the test set as the file.
    credentials: firstCredentials(storeCredentials.credentials, {
      headers: (tenantId, name) => cloudCredentials.headers(tenantId, name),
    }),
    // The stand-in APIs listen on loopback; production keeps the default (public addresses only).
    egress: { ...DEFAULT_EGRESS, allowPrivate: true },
    apiOperations,
  });
  const workerRun = Promise.all([worker?.run(), activityWorker.run()]);
  const clientConnection = await connectTemporalClient(temporalConnectionOptions(cloudConfig));
  const temporal = new Client({
    connection: clientConnection,
    namespace: cloudConfig.TEMPORAL_NAMESPACE,
    dataConverter: vansalesDataConverter(payloadKeys),
  });
  const agents: Pick<ReturnType<typeof createAgent>, 'agent' | 'close'>[] = [];
  const machineKeys = new Map<string, string>();
  const machineKey = (machine = 'this-machine') => {
    let key = machineKeys.get(machine);
    if (!key) machineKeys.set(machine, (key = generateAgentKeyPair().privateKeyPem));
    return key;
  };

  return {
    machineKey,
    agentHeaders: (apiKey, machine) =>
      createGatewayAuth({ gatewayUrl: gatewayWsUrl, apiKey, identityKey: machineKey(machine) }).connectHeaders(),
    gateway,
    gatewayWsUrl,
    adminToken,
    temporal,
    workflowTaskQueue,
    payloadKeys,
    cloudTaskQueue,
    controlTaskQueue,
    setCloudDatabases(databases) {
      cloudDatabases = databases;
    },
    credentialStore,
    apiCalls: async (tenantId) => (await apiCallAudit.listApiCalls(tenantId, {}, { limit: 1000 })).calls.reverse(),
    setCloudCredentials(credentials) {
      cloudCredentials = cloudCredentialsFrom(credentials);
    },
    logs,
    bufferDir,
    bufferTokenSecret,
    frames,
    async api(method, url, body, token = adminToken) {
      const res = await gateway.app.inject({
        method,
        url,
        payload: body as object | undefined,
        headers: { authorization: `Bearer ${token}` },
      });
      // A 204 has no body to parse.
      return { status: res.statusCode, body: res.body ? res.json() : (undefined as never) };
    },
    startAgent(overrides, options = {}) {
      const config = parseAgentConfig({
        gatewayUrl: gatewayWsUrl,
        reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
        identityKey: machineKey(overrides.machineId),
        ...overrides,
      });
      const own = new LogCapture();
      const handle = createAgent(config, own.logger('agent'), options);
      agents.push(handle);
      const welcomed = new Promise<void>((resolve) => (handle.agent.onWelcome = () => resolve()));
      handle.agent.start();
      const logLines = () => own.lines;
      // Keep the platform-wide capture complete for the secret scans.
      void handle.agent.done.finally(() => logs.lines.push(...own.lines));
      return { ...handle, welcomed, logLines };
    },
    startCustomAgent(apiKey, operations) {
      const config = parseAgentConfig({
        gatewayUrl: gatewayWsUrl,
        apiKey,
        reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
        identityKey: machineKey(),
      });
      const agent = new Agent({ config, operations, log: logs.logger('agent') });
      agents.push({ agent, close: () => agent.stop() });
      const welcomed = new Promise<void>((resolve) => (agent.onWelcome = () => resolve()));
      agent.start();
      return { agent, welcomed };
    },
    async close() {
      await Promise.all(agents.map((a) => a.close()));
      await gateway.close();
      worker?.shutdown();
      activityWorker.shutdown();
      await workerRun;
      await nativeConnection.close();
      await clientConnection.close();
      await storeCredentials.close();
      await apiOperations.close();
      await db.drop();
      rmSync(bufferDir, { recursive: true, force: true });
    },
  };
}

/** Stops a tool the test started (a receiver, a scraper) with SIGTERM and waits for it to exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Polls `check` until it gives a value other than undefined/false; fails naming `what` after `ms`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the buffer itself calls an object expired (createObject of a live one is a no-op). */
export function untilExpired(buffer: Gateway['buffer'], tenantId: string, objectId: string): Promise<true> {
  return until(`buffer object ${objectId} to expire`, () =>
    buffer.createObject(tenantId, { objectId, ttlSeconds: 1 }).then(
      () => false,
      (err: { code?: string }) => {
        if (err.code === 'EXPIRED') return true as const;
        // Still live: the probe may not overwrite it, and says so.
        if (err.code === 'ALREADY_COMMITTED') return false;
        throw err;
      },
    ),
  );
}

/** A dataflow connection to one database of the test PostgreSQL named by `url`. */
export function pgConfig(url: string, database: string): DataConnectionConfig {
  const u = new URL(url);
  return {
    dialect: 'postgres',
    host: u.hostname,
    port: Number(u.port),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database,
  };
}

/** A dataflow connection to one database of the test MariaDB. */
export const mariaConfig = (database: string): DataConnectionConfig => ({
  dialect: 'mysql',
  ...services.mariadb,
  database,
});

/** A Temporal failure and its causes as one line, for matching refusal messages. */
export function failureText(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  while (e && typeof e === 'object') {
    const x = e as { message?: string; type?: string; cause?: unknown };
    parts.push(`${x.type ?? ''} ${x.message ?? ''}`);
    e = x.cause;
  }
  return parts.join(' | ');
}
