import Fastify, { type FastifyInstance, type FastifyRequest, type RouteOptions } from 'fastify';
import websocket from '@fastify/websocket';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { MAX_FRAME_BYTES } from '@vansales/protocol';
import type { DataBuffer } from '@vansales/buffer';
import type {
  AuditRepository,
  BufferLimits,
  BufferUsage,
  ControlFlagRepository,
  DefinitionRunRepository,
  IdentityRepository,
  Repositories,
  DefinitionRepository,
  SchemaRegistry,
} from '@vansales/metadata';
import type { DefinitionStore } from '@vansales/definitions';
import type { Logger } from './logger';
import type { AgentHub } from './agent-hub/agent-hub';
import type { ReadinessCheck } from './readiness';
import type { GatewayMetrics } from './gateway-metrics';
import type { Tracer } from '@opentelemetry/api';
import { traceRequests } from './http/request-tracing';
import type { AgentConnectionLimits } from './agent-hub/agent-connection';
import { authPlugin } from './http/auth';
import { clientErrorHandler, errorHandlingPlugin } from './http/error-handling';
import { requestDeadlinePlugin } from './http/request-deadline';
import { openapiPlugin } from './http/openapi';
import { consoleCorsPlugin } from './http/console-cors';
import { workflowRunsPlugin } from './services/workflow-runs';
import { tenantServicePlugin } from './services/tenant-service';
import { keyServicePlugin } from './services/key-service';
import { identityServicePlugin, type IdentitySettings } from './services/identity-service';
import identityRoutes from './routes/identity-routes';
import { ssoServicePlugin, type SsoProviderConfig, type SsoSettings } from './services/sso-service';
import type { SlidingWindow } from './services/rate-window';
import ssoRoutes from './routes/sso-routes';
import auditRoutes from './routes/audit-routes';
import { createPeopleAuditWriter, peopleAuditPlugin } from './http/people-audit';
import { connectorServicePlugin } from './services/connector-service';
import { schemaServicePlugin } from './services/schema-service';
import { sitePolicyServicePlugin } from './services/site-policy-service';
import { queryServicePlugin } from './services/query-service';
import { syncServicePlugin } from './services/sync-service';
import { bufferServicePlugin } from './services/buffer-service';
import { codecServicePlugin } from './services/codec-service';
import { webhookServicePlugin, type WebhookServiceDeps } from './services/webhook-service';
import { controlFlagServicePlugin } from './services/control-flags';
import { quotaServicePlugin, type QuotaService } from './services/quota-service';
import quotaRoutes from './routes/quota-routes';
import { definitionRunServicePlugin } from './services/definition-runs';
import { createDefinitionSchedules, definitionSchedulesPlugin } from './services/definition-schedules';
import { createSiteEventWatchers, siteEventWatchersPlugin } from './services/site-event-watchers';
import { definitionServicePlugin, type DestinationWritable } from './services/definition-service';
import systemRoutes from './routes/system-routes';
import tenantRoutes from './routes/tenant-routes';
import connectorRoutes from './routes/connector-routes';
import keyRoutes from './routes/key-routes';
import schemaRoutes from './routes/schema-routes';
import queryRoutes from './routes/query-routes';
import syncRoutes from './routes/sync-routes';
import bufferRoutes from './routes/buffer-routes';
import codecRoutes from './routes/codec-routes';
import definitionRunRoutes from './routes/definition-run-routes';
import controlFlagRoutes from './routes/control-flag-routes';
import definitionRoutes from './routes/definition-routes';
import agentSocketRoute from './routes/agent-socket-route';
import agentEnrolRoutes from './routes/agent-enrol-routes';
import agentArtifactRoutes from './routes/agent-artifact-routes';
import agentReleaseRoutes from './routes/agent-release-routes';
import { agentReleaseServicePlugin, type AgentReleaseService } from './services/agent-release-service';
import { createSiteSpecFetch } from './services/site-spec-fetch';
import webhookRoutes from './routes/webhook-routes';
import apiRoutes from './routes/api-routes';
import { apiServicePlugin, type ApiServiceDeps } from './services/api-service';
import { credentialServicePlugin, type CredentialServiceDeps } from './services/credential-service';
import credentialRoutes from './routes/credential-routes';
import apiCallRoutes from './routes/api-call-routes';
import type { ApiCallRepository } from '@vansales/metadata';
import type { KeyServiceSettings } from './services/key-service';
import type { AuthThrottleSettings } from './http/auth-throttle';

export interface AppDeps {
  logger: Logger;
  /** The bootstrap token; undefined when turned off (VSC_ADMIN_TOKEN_DISABLED). */
  adminToken: string | undefined;
  /** People, memberships, sessions and API tokens (issue 12). */
  identity: IdentityRepository;
  identitySettings?: Partial<IdentitySettings>;
  /** OpenID Connect providers people may sign in through (none: single sign-on is off). */
  ssoProviders?: SsoProviderConfig[];
  /** Single sign-on state lifetime and the per-address start throttle. */
  ssoSettings?: Partial<SsoSettings>;
  /** A window shared by the gateway nodes (Redis) for the per-address throttles; else per process. */
  rateWindow?: SlidingWindow;
  hub: AgentHub;
  temporalConnection: Connection;
  /** The Temporal client the control plane starts and reads workflows with. */
  temporal: Client;
  workflowTaskQueue: string;
  /** Where cloud activities run (syncs that touch cloud databases). */
  cloudTaskQueue?: string;
  /** Where the gateways serve the interpreter's control activities (definitions, cursors). */
  controlTaskQueue?: string;
  repos: Repositories;
  auditRepo: AuditRepository;
  /** Runs of definitions, control flags and schedules (issue 10); the store is the definitions' (i10-model). */
  definitionRuns: { runs: DefinitionRunRepository; flags: ControlFlagRepository; store?: DefinitionStore };
  schemaRegistry: SchemaRegistry;
  /** Definitions and their versions (issue 10). */
  definitions: DefinitionRepository;
  /** Asks a site whether its policy lets a destination table be written (checked when definitions are saved). */
  destinationWritable?: DestinationWritable;
  maxFrameBytes?: number;
  /** Probes behind GET /readyz (no route without it). */
  readiness?: ReadinessCheck;
  /** Prometheus metrics behind GET /metrics (admin token; no route without it). */
  metrics?: GatewayMetrics;
  /** A span per REST request when tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT). */
  tracer?: Tracer;
  /** The Temporal SDK's own exporter, appended to /metrics. */
  forwardedMetrics?: () => Promise<string>;
  /** What one agent connection may cost (result size, protocol errors); see AgentConnectionLimits. */
  agentLimits?: Partial<AgentConnectionLimits>;
  /** PEM certificate and key; without them the gateway speaks plain HTTP (loopback, or behind a TLS proxy). */
  tls?: { cert: Buffer; key: Buffer };
  /** Sees every text frame agents send (tracing). */
  frameTap?: (raw: string) => void;
  /** The payload codec, served at /v1/codec/decode for the Temporal Web UI and CLI. */
  payloadCodec?: PayloadCodec;
  codecRequiresAuth?: boolean;
  codecCorsOrigin?: string;
  /** Host names the codec endpoint answers to; undefined: any. */
  codecAllowedHosts?: string[];
  /** Origins of the web console allowed to call the REST API from a browser (VSC_CONSOLE_ORIGINS). */
  consoleOrigins?: readonly string[];
  /** The data buffer and the secret of its access tokens: serves /v1/buffer/objects/… to agents. */
  buffer?: {
    dataBuffer: DataBuffer;
    tokenSecret: Buffer;
    maxInFlightChunks?: number;
    maxInFlightChunksPerTenant?: number;
    /** Byte accounting of the quotas (the metadata store); without it there are no byte quotas. */
    usage?: BufferUsage;
    limits?: (tenantId: string) => BufferLimits | Promise<BufferLimits>;
  };
  /** Agent releases, approvals and the agents' downloads (issue 13 §5): needs the buffer's store. */
  agentReleases?: AgentReleaseService;
  /** Sees every route as it is registered (the test that every route is documented walks them). */
  onRoute?: (route: RouteOptions) => void;
  /** How agents prove their key pair and how failures are throttled (VSC_GATEWAY_PUBLIC_HOSTS, VSC_AGENT_*, VSC_AUTH_*). */
  agentAuth?: { publicHosts?: readonly string[]; keys?: KeyServiceSettings; throttle?: AuthThrottleSettings };
  /**
   * Webhook triggers (POST /v1/hooks/:hookId and the routes that manage them); needs `buffer`.
   * VSC_WEBHOOK_* in config.ts.
   */
  webhooks?: Pick<
    WebhookServiceDeps,
    'repo' | 'box' | 'definitions' | 'runAllowed' | 'toleranceSeconds' | 'startTimeoutMs' | 'now'
  > & { maxBodyBytes: number };
  /** API connectors (issue 11): the SDK factory's artifact registry and the definitions it checks upgrades against. */
  apis?: ApiServiceDeps;
  /** The cloud credential store and OAuth authorizations through REST (needs VSC_CREDENTIALS_KEYS or its file). */
  credentials?: Omit<CredentialServiceDeps, 'log'>;
  /** The API call audit (GET /v1/tenants/:t/api-calls). */
  apiCalls?: ApiCallRepository;
  /**
   * Per-tenant quotas (connectors, runs per minute, buffer bytes, webhook deliveries): enforced and
   * served at /v1/tenants/:t/quotas. Without it nothing is limited by quotas.
   */
  quotas?: QuotaService;
  /** See VSC_GATEWAY_REQUEST_TIMEOUT_MS and VSC_GATEWAY_CONNECTION_TIMEOUT_MS in config.ts. */
  timeouts?: { requestMs: number; connectionMs: number; bodyIdleMs?: number; headersMs?: number };
}

/**
 * How often Node checks connections that have not sent a whole request head against requestTimeout
 * (bodies are the request-deadline plugin's); a tenth of it, so a silent client is cut near the limit.
 */
const checkingIntervalFor = (requestMs: number) => Math.max(250, Math.min(30_000, Math.floor(requestMs / 10)));

/**
 * Builds the gateway as a fastify application; main.ts only listens. Cross-cutting plugins first
 * (errors, auth, OpenAPI), then the services (each a plugin that decorates the instance and names
 * the services it needs), then the routes of each resource, which declare theirs.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const timeouts = deps.timeouts;
  const serverOptions = timeouts ? { connectionsCheckingInterval: checkingIntervalFor(timeouts.requestMs) } : {};
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: 1024 * 1024,
    // Path parameters are checked by each route's schema (a 400 naming the field); the router's own
    // 100-character limit answered an undocumented 414 first (a credential name may have 200, encoded 600).
    routerOptions: { maxParamLength: 1024 },
    clientErrorHandler,
    ...(timeouts ? { requestTimeout: timeouts.requestMs, connectionTimeout: timeouts.connectionMs } : {}),
    ...(deps.tls
      ? { https: { cert: deps.tls.cert, key: deps.tls.key, minVersion: 'TLSv1.2' as const, ...serverOptions } }
      : { http: serverOptions }),
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  if (deps.onRoute) app.addHook('onRoute', deps.onRoute);

  await app.register(errorHandlingPlugin);
  deps.metrics?.instrument(app);
  if (deps.tracer) traceRequests(app, deps.tracer);
  if (timeouts) {
    // Node's own limit on the request line and headers; the body's limits are the deadline plugin's.
    if (timeouts.headersMs) app.server.headersTimeout = Math.min(timeouts.headersMs, timeouts.requestMs);
    await app.register(requestDeadlinePlugin, {
      requestTimeoutMs: timeouts.requestMs,
      bodyIdleTimeoutMs: timeouts.bodyIdleMs,
    });
  }
  // Before auth: a browser's preflight carries no credential.
  await app.register(consoleCorsPlugin, { origins: deps.consoleOrigins ?? [] });
  // Before auth: its onRequest hook marks upgrade requests, so a refused upgrade's socket is closed.
  await app.register(websocket, {
    options: { maxPayload: (deps.maxFrameBytes ?? MAX_FRAME_BYTES) * 2 },
    errorHandler: agentSocketError,
  });
  await app.register(tenantServicePlugin, { repos: deps.repos });
  await app.register(keyServicePlugin, {
    repos: deps.repos,
    hub: deps.hub,
    auditRepo: deps.auditRepo,
    settings: deps.agentAuth?.keys,
  });
  await app.register(identityServicePlugin, {
    identity: deps.identity,
    repos: deps.repos,
    settings: deps.identitySettings,
    // Sign-ins, password changes and invitations go to the people chains the hook below also writes.
    audit: createPeopleAuditWriter(deps.auditRepo, (err, tenantId) =>
      app.log.error({ err: err.message, tenantId }, 'could not append to the people audit'),
    ),
  });
  await app.register(ssoServicePlugin, {
    providers: deps.ssoProviders ?? [],
    states: deps.identity,
    window: deps.rateWindow,
    settings: deps.ssoSettings,
    log: deps.logger,
  });
  await app.register(authPlugin, {
    adminToken: deps.adminToken,
    bufferTokenSecret: deps.buffer?.tokenSecret,
    publicHosts: deps.agentAuth?.publicHosts,
    throttle: deps.agentAuth?.throttle,
  });
  await app.register(openapiPlugin, { version: '0.1.0' });
  await app.register(peopleAuditPlugin, { auditRepo: deps.auditRepo });

  await app.register(quotaServicePlugin, { quotas: deps.quotas });
  await app.register(workflowRunsPlugin, { temporal: deps.temporal, workflowTaskQueue: deps.workflowTaskQueue });
  await app.register(connectorServicePlugin, { repos: deps.repos, hub: deps.hub, auditRepo: deps.auditRepo });
  await app.register(schemaServicePlugin, { repos: deps.repos, schemaRegistry: deps.schemaRegistry });
  await app.register(sitePolicyServicePlugin, { repos: deps.repos });
  await app.register(queryServicePlugin, { repos: deps.repos });
  await app.register(syncServicePlugin, { repos: deps.repos, cloudTaskQueue: deps.cloudTaskQueue });
  const runQueues = { cloudTaskQueue: deps.cloudTaskQueue, controlTaskQueue: deps.controlTaskQueue };
  const schedules = createDefinitionSchedules({
    temporal: deps.temporal,
    workflowTaskQueue: deps.workflowTaskQueue,
    runQueues,
    flags: deps.definitionRuns.flags,
  });
  await app.register(definitionSchedulesPlugin, { schedules });
  const watchers = createSiteEventWatchers({
    temporal: deps.temporal,
    workflowTaskQueue: deps.workflowTaskQueue,
    runQueues,
    flags: deps.definitionRuns.flags,
  });
  await app.register(siteEventWatchersPlugin, { watchers });
  await app.register(controlFlagServicePlugin, {
    flags: deps.definitionRuns.flags,
    auditRepo: deps.auditRepo,
    repos: deps.repos,
    temporal: deps.temporal,
    store: deps.definitionRuns.store,
    followers: [schedules, watchers],
  });
  await app.register(definitionRunServicePlugin, {
    temporal: deps.temporal,
    workflowTaskQueue: deps.workflowTaskQueue,
    runQueues,
    runs: deps.definitionRuns.runs,
    store: deps.definitionRuns.store,
  });
  await app.register(definitionServicePlugin, {
    repos: deps.repos,
    definitions: deps.definitions,
    // A step naming a registered API operation is checked against the registry (issue 11).
    ...(deps.apis ? { apiOperation: deps.apis.registry.operationStatus } : {}),
    // And its placement against where the API can be reached from (its accessibility).
    ...(deps.apis ? { apiAccess: deps.apis.registry.apiAccess } : {}),
    // Asks the site's agent (policy.describe) unless a caller supplies the answer; an agent that does
    // not answer within 5 s makes it a warning ('unknown'), not an error: the agent checks every load anyway.
    destinationWritable:
      deps.destinationWritable ??
      (async (tenantId, connectorId, database, table) => {
        try {
          const ok = await app.sitePolicies.destinationWritable(
            tenantId,
            connectorId,
            database,
            table,
            AbortSignal.timeout(5_000),
          );
          return ok ? 'yes' : 'no';
        } catch {
          return 'unknown';
        }
      }),
    // From the schema registry (discovered when the agent connects): a sync's first key column type.
    columnType: async (tenantId, connectorId, database, table, column) => {
      const stored = await deps.schemaRegistry.getSnapshot(tenantId, connectorId, database);
      if (!stored) return undefined;
      const found = stored.snapshot.schemas.flatMap((ns) =>
        (table.schema === undefined || ns.name === table.schema ? ns.tables : [])
          .filter((t) => t.name === table.name)
          .map((t) => ({ ns: ns.name, t })),
      );
      // Without a schema the name must say one table (or the default one: PostgreSQL's public).
      const one = found.length === 1 ? found[0] : found.find((f) => f.ns === 'public');
      return one?.t.columns.find((c) => c.name === column)?.dataType;
    },
    // A publish makes the version's schedule triggers Temporal Schedules and its site-event triggers
    // watchers; an archive removes both.
    lifecycle: {
      published: async (version) => [await schedules.published(version), await watchers.published(version)],
      archived: async (tenantId, definitionId) => {
        await schedules.archived(tenantId, definitionId);
        await watchers.archived(tenantId, definitionId);
      },
    },
  });

  await app.register(systemRoutes, {
    temporalConnection: deps.temporalConnection,
    hub: deps.hub,
    readiness: deps.readiness,
    ...(deps.metrics ? { metrics: { registry: deps.metrics.registry, forwarded: deps.forwardedMetrics } } : {}),
  });
  await app.register(tenantRoutes);
  if (deps.quotas) await app.register(quotaRoutes);
  await app.register(identityRoutes);
  await app.register(ssoRoutes);
  await app.register(auditRoutes, { auditRepo: deps.auditRepo, repos: deps.repos });
  await app.register(connectorRoutes);
  await app.register(keyRoutes);
  await app.register(schemaRoutes);
  await app.register(queryRoutes);
  await app.register(syncRoutes);
  await app.register(definitionRunRoutes);
  await app.register(controlFlagRoutes);
  await app.register(definitionRoutes);
  await app.register(agentEnrolRoutes);
  if (deps.apis) {
    await app.register(apiServicePlugin, {
      repos: deps.repos,
      ...deps.apis,
      fetchSiteSpec:
        deps.apis.fetchSiteSpec ??
        createSiteSpecFetch({
          repos: deps.repos,
          workflowRuns: app.workflowRuns,
          ...(deps.buffer ? { buffer: deps.buffer.dataBuffer } : {}),
        }),
    });
    await app.register(apiRoutes);
    await app.register(agentArtifactRoutes);
  }
  if (deps.credentials) {
    await app.register(credentialServicePlugin, { ...deps.credentials, log: deps.logger });
    await app.register(credentialRoutes);
  }
  if (deps.apiCalls) await app.register(apiCallRoutes, { calls: deps.apiCalls });
  if (deps.agentReleases) {
    await app.register(agentReleaseServicePlugin, { service: deps.agentReleases });
    await app.register(agentReleaseRoutes, {
      offerUpdates: (tenantId) => deps.hub.offerUpdates(tenantId, deps.agentReleases!.offerFor),
    });
  }
  await app.register(agentSocketRoute, {
    hub: deps.hub,
    maxFrameBytes: deps.maxFrameBytes,
    frameTap: deps.frameTap,
    limits: deps.agentLimits,
  });
  if (deps.payloadCodec) {
    await app.register(codecServicePlugin, { codec: deps.payloadCodec });
    await app.register(codecRoutes, {
      requiresAuth: deps.codecRequiresAuth !== false,
      corsOrigin: deps.codecCorsOrigin,
      allowedHosts: deps.codecAllowedHosts,
    });
  }
  if (deps.buffer) {
    await app.register(bufferServicePlugin, {
      buffer: deps.buffer.dataBuffer,
      usage: deps.buffer.usage,
      limits: deps.buffer.limits,
    });
    await app.register(bufferRoutes, {
      maxInFlightChunks: deps.buffer.maxInFlightChunks,
      maxInFlightChunksPerTenant: deps.buffer.maxInFlightChunksPerTenant,
      sessionAlive: (connectorId, sessionId) => deps.hub.sessionAlive(connectorId, sessionId),
    });
    if (deps.webhooks) {
      const { maxBodyBytes, ...webhooks } = deps.webhooks;
      await app.register(webhookServicePlugin, {
        ...webhooks,
        temporal: deps.temporal,
        workflowTaskQueue: deps.workflowTaskQueue,
        runQueues,
        buffer: deps.buffer.dataBuffer,
        takeWebhook: deps.quotas?.takeWebhook,
      });
      await app.register(webhookRoutes, { maxBodyBytes });
    }
  }
  return app;
}

/**
 * Errors on an agent's socket. A frame the peer got wrong (ws's `WS_ERR_*`: not UTF-8, past the
 * size limit, a bad opcode) is the peer's fault: ws already closes with the matching code (1007,
 * 1009, 1002), so it is a warning without a stack. The plugin's default logged each at error level
 * with a stack trace, so any key holder could fill the error log (found by the frame fuzzer).
 */
function agentSocketError(error: Error & { code?: string }, socket: { terminate(): void }, req: FastifyRequest): void {
  if (typeof error.code === 'string' && error.code.startsWith('WS_ERR_')) {
    req.log.warn({ code: error.code }, `agent socket closed on a bad frame: ${error.message}`);
    return;
  }
  req.log.error({ err: error }, 'agent socket failed');
  socket.terminate();
}
