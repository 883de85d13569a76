import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import {
  connectTemporalClient,
  payloadCompatibility,
  temporalConnectionOptions,
  vansalesDataConverter,
} from '@vansales/temporal-config';
import type { FastifyInstance } from 'fastify';
import { Client } from '@temporalio/client';
import type { Tracing } from '@vansales/tracing';
import { tracingActivityInterceptors, tracingClientInterceptors } from '@vansales/tracing/temporal';
import { NativeConnection, type ActivityInterceptorsFactory } from '@temporalio/worker';
import {
  createApiCallRepository,
  createIdentityRepository,
  createAuditRepository,
  createCredentialRepository,
  createBufferUsage,
  createTenantQuotaRepository,
  createAgentReleaseRepository,
  createWebhookRepository,
  createControlFlagRepository,
  createDefinitionRunRepository,
  createDefinitionRepository,
  createDefinitionStore,
  createRepositories,
  createSchemaRegistry,
  createSourceCursorRepository,
  createSyncStateRepository,
  metadataTarget,
  openMetadataDb,
  type MetadataDb,
} from '@vansales/metadata';
import { openDataBuffer, parseTokenSecret, type DataBuffer } from '@vansales/buffer';
import { openArtifactRegistry, type ArtifactRegistry } from '@vansales/sdk-factory/registry';
import { createAuthenticator, createMetadataCredentialStore, localKeyWrapper } from '@vansales/sdk-factory/auth';
import { createSpecFetch } from './services/spec-fetch';
import { codecAllowedHosts, type GatewayConfig } from './config';
import { checkPrivateState } from './private-state';
import { createBufferAccess, type GrantBufferAccess } from './buffer-access';
import { buildApp, type AppDeps } from './app';
import { AgentHub } from './agent-hub/agent-hub';
import { localSessionCluster, redisSessionCluster, type SessionCluster } from './agent-hub/session-cluster';
import { createQuotaService } from './services/quota-service';
import { connectRedisWindow } from './services/rate-window';
import { readinessChecks } from './readiness';
import { bufferGrantPreparer } from './agent-hub/buffer-grants';
import { apiOperationPreparer, composePreparers } from './agent-hub/api-operation-artifacts';
import { discoverOnConnect } from './agent-hub/discover-on-connect';
import { recordDiscoveredSchema } from './agent-hub/record-discovered-schema';
import { recordSiteApiCalls } from './agent-hub/record-site-api-calls';
import { BUFFER_PURGE_SCHEDULE_ID, ensureBufferPurgeSchedule } from './buffer-purge-schedule';
import type { TenantService } from './services/tenant-service';
import type { ConnectorService } from './services/connector-service';
import type { KeyService } from './services/key-service';
import type { SchemaService } from './services/schema-service';
import type { SitePolicyService } from './services/site-policy-service';
import type { QueryService } from './services/query-service';
import type { SyncService } from './services/sync-service';
import { connectorIdsOf, type DefinitionStore } from '@vansales/definitions';
import { checkRunAllowed, type ControlFlagService } from './services/control-flags';
import { GatewayError } from './errors';
import type { DefinitionRunService } from './services/definition-runs';
import type { DefinitionSchedules } from './services/definition-schedules';
import type { Logger } from './logger';
import { createSecretBox } from './webhooks/secret-box';
import type { RunGate, WebhookService } from './services/webhook-service';
import { startControlWorker } from './control-worker';
import { collapseLabel, forwardMetrics } from '@vansales/metrics';
import { connectorTaskQueue } from '@vansales/protocol/task-queues';
import { createGatewayMetrics } from './gateway-metrics';
import { createAgentReleaseService } from './services/agent-release-service';
import packageJson from '../package.json';
import { createDefinitionControlActivities, createSyncStateActivities } from '@vansales/activities/control';

/** The control-plane operations behind the REST routes, for in-process callers (benchmarks, tools). */
export interface GatewayServices {
  tenants: TenantService;
  connectors: ConnectorService;
  keys: KeyService;
  schemas: SchemaService;
  /** A site policy's writable tables and API names (definition validation's destinationWritable). */
  sitePolicies: SitePolicyService;
  queries: QueryService;
  syncs: SyncService;
  webhooks: WebhookService;
  /** Runs of definitions (REST start, retry, re-run, approve, cancel). */
  definitionRuns: DefinitionRunService;
  /** Control flags; `checkRunAllowed` is what every trigger calls before it starts a run. */
  controlFlags: ControlFlagService;
  /** Schedules of published definitions: call `published(version)` on publish and `archived(...)` on archive. */
  definitionSchedules: DefinitionSchedules;
}

export interface Gateway {
  app: FastifyInstance;
  hub: AgentHub;
  services: GatewayServices;
  db: MetadataDb;
  /** The encrypted temporary buffer (claim-check objects between activities). */
  buffer: DataBuffer;
  /** Leases and revocations shared with the other gateway nodes. */
  cluster: SessionCluster;
  /** A token that lets one agent read or write one buffer object through this gateway. */
  grantBufferAccess: GrantBufferAccess;
  /** The SDK factory's artifact registry (API versions, manifests, operation bundles), signed by this gateway. */
  apiRegistry: ArtifactRegistry;
  /** Stops accepting, disconnects agents, stops their Workers, closes connections. */
  close(): Promise<void>;
}

/** Wires the gateway's dependencies from its config; used by main.ts and by tests alike. */
export async function createGateway(
  config: GatewayConfig,
  logger: Logger,
  options: {
    maxFrameBytes?: number;
    frameTap?: (raw: string) => void;
    purgeSchedule?: boolean;
    onRoute?: AppDeps['onRoute'];
    activityInterceptors?: ActivityInterceptorsFactory[];
    /** Traces (main.ts starts them from OTEL_*): REST spans, workflow starts, the agents' activities. */
    tracing?: Tracing;
    /** Where webhook deliveries read published definitions from (default: the metadata store's). */
    definitions?: DefinitionStore;
    /** Control flags on new runs (i10-api's checkRunAllowed). */
    runAllowed?: RunGate;
    /** Where runs read definitions from; default: the metadata store's definitions. */
    definitionStore?: DefinitionStore;
  } = {},
): Promise<Gateway> {
  checkPrivateState(config);
  const db = await openMetadataDb(metadataTarget(config));
  const buffer = await openDataBuffer(config);
  const bufferTokenSecret = parseTokenSecret(config.VSC_BUFFER_TOKEN_SECRET);
  const grantBufferAccess = createBufferAccess({ tokenSecret: bufferTokenSecret });
  // The client (REST routes) and the agents' Workers reach Temporal the same way: TLS, mTLS, API key.
  const temporalOptions = temporalConnectionOptions(config);
  const temporalConnection = await connectTemporalClient(temporalOptions);
  const nativeConnection = await NativeConnection.connect(temporalOptions);
  const dataConverter = vansalesDataConverter(config.VSC_PAYLOAD_KEYS, payloadCompatibility(config));
  const codec = dataConverter.payloadCodecs[0]!;
  const temporal = new Client({
    connection: temporalConnection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter,
    interceptors: { workflow: tracingClientInterceptors(options.tracing) },
  });
  const repos = createRepositories(db);
  const auditRepo = createAuditRepository(db, {
    signingKey: config.VSC_AUDIT_SIGNING_KEY ? { privateKeyPem: config.VSC_AUDIT_SIGNING_KEY } : undefined,
  });
  const schemaRegistry = createSchemaRegistry(db);
  const definitions = createDefinitionRepository(db);
  const apiCalls = createApiCallRepository(db);
  const definitionRunRepo = createDefinitionRunRepository(db);
  // The hub needs the schema service (discovery on connect) and the services need the hub: the
  // service is bound once the app is built, before it listens, so before any agent can connect.
  const late: { schemas?: SchemaService } = {};
  const discoverOnline = discoverOnConnect(
    (tenantId, connectorId, database) => late.schemas!.discover(tenantId, connectorId, database),
    logger,
  );
  const cluster =
    config.VSC_GATEWAY_CLUSTER === 'off'
      ? localSessionCluster(config.VSC_GATEWAY_NODE_ID)
      : await redisSessionCluster({
          url: config.VSC_REDIS_URL!,
          nodeId: config.VSC_GATEWAY_NODE_ID,
          leaseMs: config.VSC_SESSION_LEASE_MS,
          log: logger,
        });
  logger.info({ cluster: cluster.mode, nodeId: cluster.nodeId }, 'gateway cluster mode');
  // Rate quotas are shared by the gateway nodes through Redis when there is one, else counted per process.
  const quotaWindow = config.VSC_REDIS_URL ? connectRedisWindow(config.VSC_REDIS_URL, logger) : undefined;
  const quotas = createQuotaService({
    defaults: {
      connectors: config.VSC_QUOTA_CONNECTORS,
      runsPerMinute: config.VSC_QUOTA_RUNS_PER_MINUTE,
      bufferBytes: config.VSC_BUFFER_TENANT_QUOTA_BYTES,
      webhooksPerMinute: config.VSC_QUOTA_WEBHOOKS_PER_MINUTE,
    },
    configured: (tenantId) => {
      const bytes = config.VSC_BUFFER_TENANT_QUOTAS[tenantId];
      return bytes === undefined ? {} : { bufferBytes: bytes };
    },
    overrides: createTenantQuotaRepository(db),
    countConnectors: async (tenantId) => (await repos.listConnectors(tenantId)).length,
    window: quotaWindow,
    log: logger,
  });
  // Artifacts share the buffer's store under `artifacts/`, which never expires; the key is made on first start.
  const apiRegistry = openArtifactRegistry({
    config,
    store: buffer.store,
    db,
    defaultKeyFile: join(config.VSC_GATEWAY_STATE_DIR, 'registry-signing-key.pem'),
  });
  // Agent executables share the buffer's store under `agent-releases/` (every node reads the same).
  const agentReleases = createAgentReleaseService({ repo: createAgentReleaseRepository(db), store: buffer.store });
  // Sessions are read from the hub when scraped (it is made just below).
  const metrics = createGatewayMetrics(packageJson.version, () => hub.size);
  const hub = new AgentHub({
    temporal: nativeConnection,
    namespace: config.TEMPORAL_NAMESPACE,
    cluster,
    // The key may have been revoked between the upgrade and hello (or on another node meanwhile).
    keyStillValid: async ({ keyLookup, connectorId }) => {
      const key = await repos.findAgentKey(keyLookup);
      return !!key && !key.revokedAt && key.connectorId === connectorId;
    },
    missedHeartbeats: config.VSC_AGENT_MISSED_HEARTBEATS,
    heartbeatIntervalMs: config.VSC_AGENT_HEARTBEAT_MS,
    helloTimeoutMs: config.VSC_AGENT_HELLO_TIMEOUT_MS,
    maxPollersPerAgent: config.VSC_AGENT_MAX_POLLERS,
    maxConcurrencyPerAgent: config.VSC_AGENT_MAX_CONCURRENCY,
    dataConverter,
    log: logger,
    activityInterceptors: [...(options.activityInterceptors ?? []), ...tracingActivityInterceptors(options.tracing)],
    onOnline: async (identity, hello) => {
      metrics.sessionOpened();
      await repos.recordAgentHello(identity.connectorId, hello);
      discoverOnline(identity, hello);
    },
    onOffline: (identity) => repos.touchConnector(identity.connectorId),
    updateOffer: agentReleases.offerFor,
    // The latest set per connector, replacing the one before (bounded by the protocol's limits).
    onDoctor: (identity, report) =>
      repos.recordDoctorReport({
        tenantId: identity.tenantId,
        connectorId: identity.connectorId,
        checkedAt: new Date(report.checkedAt),
        warnings: report.warnings,
      }),
    audit: (entry) => {
      metrics.task(entry);
      return auditRepo.append(entry);
    },
    // Extract and load tasks get their object-scoped buffer grant here, outside Temporal history.
    // A site step's API operation gets its artifacts' hashes here, from the tenant's registry.
    prepareTask: composePreparers(bufferGrantPreparer(grantBufferAccess), apiOperationPreparer(apiRegistry)),
    transformResult: recordDiscoveredSchema(schemaRegistry),
    // A site step's API operation calls (reported beside the agent's answer) into the call audit.
    recordApiCalls: recordSiteApiCalls({ calls: apiCalls, runs: definitionRunRepo, log: logger }),
  });
  if (options.purgeSchedule) {
    // Every gateway node makes sure the one schedule exists and is current; Temporal keeps one per id.
    // A schedule problem must not keep the gateway down: the S3 lifecycle rule and the next
    // node's start still cover expiry.
    await ensureBufferPurgeSchedule(temporal, {
      workflowTaskQueue: config.VSC_WORKFLOW_TASK_QUEUE,
      cloudTaskQueue: config.VSC_CLOUD_TASK_QUEUE,
      everyMinutes: config.VSC_BUFFER_PURGE_MINUTES,
    }).then(
      (outcome) =>
        logger.info(
          { schedule: BUFFER_PURGE_SCHEDULE_ID, outcome, everyMinutes: config.VSC_BUFFER_PURGE_MINUTES },
          'buffer purge schedule in place',
        ),
      (err: unknown) =>
        logger.error(
          { schedule: BUFFER_PURGE_SCHEDULE_ID, err: (err as Error).message },
          'could not set up the buffer purge schedule',
        ),
    );
  }
  const flagRepo = createControlFlagRepository(db);
  const definitionStore = options.definitionStore ?? options.definitions ?? createDefinitionStore(definitions);
  // Webhook deliveries pass the same control flags as every other trigger (checkRunAllowed).
  const webhookGate: RunGate = async (tenantId, definitionId, connectorIds) => {
    let ids = connectorIds;
    if (!ids) {
      const published = await definitionStore.published(tenantId, definitionId);
      ids = published ? connectorIdsOf(published.document) : [];
    }
    try {
      await checkRunAllowed(flagRepo, { tenantId, definitionId, connectorIds: ids });
      return { allowed: true };
    } catch (err) {
      if (err instanceof GatewayError) return { allowed: false, message: err.message };
      throw err;
    }
  };
  const app = await buildApp({
    logger,
    agentReleases,
    credentials: credentialsFrom(config, db, apiRegistry),
    apiCalls,
    adminToken: config.VSC_ADMIN_TOKEN_DISABLED ? undefined : config.VSC_ADMIN_TOKEN,
    identity: createIdentityRepository(db),
    ssoProviders: config.VSC_SSO_PROVIDERS,
    ssoSettings: {
      startsPerWindow: config.VSC_SSO_STARTS_PER_MINUTE,
      startWindowMs: 60_000,
    },
    rateWindow: quotaWindow,
    identitySettings: {
      sessionTtlMs: config.VSC_SESSION_TTL_HOURS * 3600_000,
      signInThrottle: {
        failuresPerWindow: config.VSC_SIGNIN_FAILURES_PER_WINDOW,
        windowMs: config.VSC_SIGNIN_THROTTLE_WINDOW_MS,
      },
      signInSourceThrottle: {
        failuresPerWindow: config.VSC_SIGNIN_FAILURES_PER_SOURCE,
        windowMs: config.VSC_SIGNIN_THROTTLE_WINDOW_MS,
      },
    },
    hub,
    temporalConnection,
    temporal,
    workflowTaskQueue: config.VSC_WORKFLOW_TASK_QUEUE,
    cloudTaskQueue: config.VSC_CLOUD_TASK_QUEUE,
    controlTaskQueue: config.VSC_CONTROL_TASK_QUEUE,
    repos,
    auditRepo,
    definitionRuns: {
      runs: definitionRunRepo,
      flags: flagRepo,
      store: definitionStore,
    },
    schemaRegistry,
    definitions,
    readiness: readinessChecks({ temporalConnection, db, cluster, buffer }),
    metrics,
    ...(options.tracing ? { tracer: options.tracing.tracer } : {}),
    ...(config.VSC_TEMPORAL_METRICS_PORT
      ? { forwardedMetrics: forwardedTemporalMetrics(config.VSC_TEMPORAL_METRICS_PORT) }
      : {}),
    maxFrameBytes: options.maxFrameBytes,
    agentLimits: {
      maxResultBytes: config.VSC_AGENT_MAX_RESULT_BYTES,
      maxProtocolErrors: config.VSC_AGENT_MAX_PROTOCOL_ERRORS,
    },
    frameTap: options.frameTap,
    onRoute: options.onRoute,
    payloadCodec: codec,
    codecRequiresAuth: config.VSC_CODEC_AUTH === 'admin-token',
    codecCorsOrigin: config.VSC_CODEC_CORS_ORIGIN,
    codecAllowedHosts: codecAllowedHosts(config),
    consoleOrigins: config.VSC_CONSOLE_ORIGINS,
    quotas,
    buffer: {
      dataBuffer: buffer,
      tokenSecret: bufferTokenSecret,
      maxInFlightChunks: config.VSC_BUFFER_MAX_INFLIGHT_CHUNKS,
      maxInFlightChunksPerTenant: config.VSC_BUFFER_MAX_INFLIGHT_CHUNKS_PER_TENANT,
      usage: createBufferUsage(db),
      limits: async (tenantId: string) => ({
        maxObjectBytes: config.VSC_BUFFER_MAX_OBJECT_BYTES,
        tenantQuotaBytes: (await quotas.limits(tenantId)).bufferBytes,
      }),
    },
    apis: {
      registry: apiRegistry,
      definitions,
      fetchSpec: createSpecFetch({
        allowPrivate: config.VSC_SPEC_FETCH_ALLOW_PRIVATE,
        maxBytes: 32 * 1024 * 1024,
        timeoutMs: 30_000,
      }),
    },
    webhooks: {
      repo: createWebhookRepository(db),
      box: createSecretBox(config.VSC_BUFFER_KEYS),
      definitions: definitionStore,
      runAllowed: options.runAllowed ?? webhookGate,
      maxBodyBytes: config.VSC_WEBHOOK_MAX_BODY_BYTES,
      toleranceSeconds: config.VSC_WEBHOOK_TOLERANCE_SECONDS,
      startTimeoutMs: config.VSC_WEBHOOK_START_TIMEOUT_MS,
    },
    agentAuth: {
      publicHosts: config.VSC_GATEWAY_PUBLIC_HOSTS,
      keys: {
        enrolWindowMs: Math.round(config.VSC_AGENT_ENROL_HOURS * 3_600_000),
        challengeTtlMs: config.VSC_AGENT_CHALLENGE_TTL_MS,
      },
      throttle: {
        failuresPerWindow: config.VSC_AUTH_FAILURES_PER_WINDOW,
        windowMs: config.VSC_AUTH_THROTTLE_WINDOW_MS,
      },
    },
    timeouts: {
      requestMs: config.VSC_GATEWAY_REQUEST_TIMEOUT_MS,
      connectionMs: config.VSC_GATEWAY_CONNECTION_TIMEOUT_MS,
      bodyIdleMs: config.VSC_GATEWAY_BODY_IDLE_TIMEOUT_MS,
      headersMs: config.VSC_GATEWAY_HEADERS_TIMEOUT_MS,
    },
    tls:
      config.VSC_TLS_CERT_FILE && config.VSC_TLS_KEY_FILE
        ? { cert: readFileSync(config.VSC_TLS_CERT_FILE), key: readFileSync(config.VSC_TLS_KEY_FILE) }
        : undefined,
  });
  const services: GatewayServices = {
    tenants: app.tenants,
    connectors: app.connectors,
    keys: app.keys,
    schemas: app.schemas,
    sitePolicies: app.sitePolicies,
    queries: app.queries,
    syncs: app.syncs,
    webhooks: app.webhooks,
    definitionRuns: app.definitionRuns,
    controlFlags: app.controlFlags,
    definitionSchedules: app.definitionSchedules,
  };
  late.schemas = app.schemas;
  const controlWorker = startControlWorker({
    connection: nativeConnection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.VSC_CONTROL_TASK_QUEUE,
    dataConverter,
    activityInterceptors: tracingActivityInterceptors(options.tracing),
    activities: {
      ...createDefinitionControlActivities({
        store: definitionStore,
        cursors: createSourceCursorRepository(db),
        // Operation steps without an endpoint are routed by their API's accessibility, kept here.
        apiAccess: apiRegistry.apiAccess,
      }),
      // A sync step's plan and state: the buffer and the metadata store are both here.
      ...createSyncStateActivities({ buffer, state: createSyncStateRepository(db) }),
    },
    log: logger,
  });
  let closed = false;
  return {
    app,
    hub,
    services,
    db,
    buffer,
    cluster,
    grantBufferAccess,
    apiRegistry,
    async close() {
      if (closed) return;
      closed = true;
      await hub.close();
      await controlWorker.stop();
      await cluster.close();
      quotaWindow?.close();
      await app.close();
      await nativeConnection.close();
      await temporalConnection.close();
      await db.destroy();
      await buffer.close();
    },
  };
}

/**
 * The cloud credential store and its auth schemes, when VSC_CREDENTIALS_KEYS (or its file) is set:
 * without master keys there is nothing to seal secrets with, so no credential routes. The security
 * schemes of an API are its latest registered version's (a credential serves every version).
 */
function credentialsFrom(config: GatewayConfig, db: MetadataDb, registry: ArtifactRegistry): AppDeps['credentials'] {
  if (!config.VSC_CREDENTIALS_KEYS && !config.VSC_CREDENTIALS_KEYS_FILE) return undefined;
  const store = createMetadataCredentialStore({
    repository: createCredentialRepository(db),
    wrapper: localKeyWrapper(config),
  });
  const authenticator = createAuthenticator({
    store,
    schemesOf: async (tenantId, apiRef) => {
      const versions = await registry.listVersions(tenantId, apiRef);
      const latest = versions[versions.length - 1];
      return latest ? (await registry.loadManifest(tenantId, apiRef, latest.version)).securitySchemes : undefined;
    },
    refreshSkewMs: config.VSC_OAUTH_REFRESH_SKEW_SECONDS * 1000,
    authorizationTtlMs: config.VSC_OAUTH_AUTHORIZATION_TTL_SECONDS * 1000,
  });
  return { store, authenticator, redirectUrl: config.VSC_OAUTH_REDIRECT_URL };
}

/**
 * The SDK's metrics of this node's Workers, with every connector's task queue as one (`connector.*`):
 * no connector id in a label, and as many series with 1,000 agents as with one.
 */
const CONNECTOR_QUEUES = connectorTaskQueue('');
function forwardedTemporalMetrics(port: number): () => Promise<string> {
  const read = forwardMetrics(`http://127.0.0.1:${port}/metrics`);
  return async () =>
    collapseLabel(await read(), 'task_queue', (queue) =>
      queue.startsWith(CONNECTOR_QUEUES) ? `${CONNECTOR_QUEUES}*` : queue,
    );
}
