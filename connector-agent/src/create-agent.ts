import pino from 'pino';
import type { AgentConfig } from './config';
import { Agent, AGENT_VERSION, type AgentOptions } from './agent';
import type { AuditLog } from './audit/audit-log';
import { siteDatabases } from './site-database/site-database';
import { createSqlQuery } from './operations/sql-query';
import { createSchemaDiscover } from './operations/schema-discover';
import { createDataExtract } from './operations/data-extract';
import { createTableWatch } from './operations/table-watch';
import { createDataLoad } from './operations/data-load';
import { createDataTransform } from './operations/data-transform';
import { createDataTransfer } from './operations/data-transfer';
import { createBufferClient } from './buffer/buffer-client';
import { loadSitePolicy, readSitePolicyFile } from './policy/site-policy';
import {
  createSiteHttpRead,
  createSiteHttpWrite,
  createSiteTableWrite,
  type SiteHttpDeps,
} from './operations/site-http';
import { createPolicyDescribe } from './operations/policy-describe';
import { createApiFetchSpec } from './operations/api-fetch-spec';
import { createSyncChecksum, createSyncDelete, createSyncExtract } from './operations/site-sync';
import { policyOf, type DataDeps } from './operations/data-support';
import { createApiArtifactClient, type ApiArtifactClient } from './api-artifacts';
import { createGatewayAuth, type GatewayAuth } from './gateway-auth';
import { machineId } from './machine-id';
import type { OperationTable } from './operations/operation';
import type { AgentMetrics } from './agent-metrics';
import type { Tracer } from '@opentelemetry/api';
import { RotatingLogFile } from './log-file';
import { createGatewayNetwork, type GatewayNetwork } from './net';
import { runDoctorChecks } from './doctor/doctor-checks';

export const AGENT_REDACT_PATHS = [
  'password',
  '*.password',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'proxy.password',
  '*.proxy.password',
];

/**
 * The agent's artifact client (SDK bundles by hash, verified against the pinned registry keys), made
 * on the first step that calls an API operation: an agent that never runs one never touches its folder.
 */
function artifactClientOf(
  config: AgentConfig,
  network: GatewayNetwork,
  fallbackDir?: string,
): SiteHttpDeps['artifacts'] {
  const cacheDir = config.apiArtifacts.cacheDir ?? fallbackDir;
  const identityKey = config.identityKey;
  if (!cacheDir || !identityKey) return undefined;
  let client: ApiArtifactClient | undefined;
  return {
    fetch: (sha256, kind) => {
      client ??= createApiArtifactClient({
        auth: gatewayAuthOf(config, identityKey, network),
        cacheDir,
        ...(config.apiArtifacts.trustedRegistryKeys ? { trustedKeys: config.apiArtifacts.trustedRegistryKeys } : {}),
      });
      return client.fetch(sha256, kind);
    },
  };
}

/** The agent's proof for its HTTP calls to its gateway (artifacts, updates), from its config, through its network. */
export function gatewayAuthOf(config: AgentConfig, identityKey: string, network: GatewayNetwork): GatewayAuth {
  return createGatewayAuth({
    gatewayUrl: config.gatewayUrl,
    apiKey: config.apiKey,
    identityKey,
    network,
    machineLabel: machineId(config.machineId),
  });
}

/** The agent's stdout for its log lines, written synchronously (see createAgent). */
const stdoutSync = () => pino.destination({ dest: 1, sync: true });

/** Wires an agent from its config: site databases opened lazily, operations, logger. */
export function createAgent(
  config: AgentConfig,
  log?: pino.Logger,
  options: {
    audit?: AuditLog;
    /** The agent's vault by name (credentials of the site's APIs); without it no API credential resolves. */
    secrets?: (name: string) => string | undefined;
    /** The SDK factory's artifacts by hash, verified (the artifact client), for steps that call an API operation. */
    artifacts?: SiteHttpDeps['artifacts'];
    /**
     * Without `artifacts`: the folder of the agent's own artifact client (verified, cached; the
     * registry keys pinned there), unless the config names one (`apiArtifacts.cacheDir`).
     */
    artifactCacheDir?: string;
    /**
     * Wraps the operation table (an embedder's extension point; the fault tests use it to lose an
     * answer after the operation did its work, as a dropped socket would).
     */
    operations?: (table: OperationTable) => OperationTable;
    /** The agent's metrics (`metrics.enabled` in agent.json): sessions, tasks, buffer bytes. */
    metrics?: AgentMetrics;
    /** A span per task (the CLI's from OTEL_EXPORTER_OTLP_ENDPOINT; none by default). */
    tracer?: Tracer;
    /** The rotating log file's folder when agent.json names none (VSC_AGENT_LOG_DIR). */
    logDir?: string;
    /** Self-update (issue 13 §5): announce the platform; or run as an update's trial. */
    updates?: Pick<AgentOptions, 'updatable' | 'trial'>;
    /** The folder of agent.json and its vault, for the doctor's file checks (mini-connector run sets it). */
    stateDir?: string;
  } = {},
): { agent: Agent; log: pino.Logger; network: GatewayNetwork; close: () => Promise<void> } {
  const logDir = config.logFile.dir ?? options.logDir;
  const logFile =
    !log && logDir ? new RotatingLogFile(logDir, config.logFile.maxBytes, config.logFile.keep) : undefined;
  const logger =
    log ??
    pino(
      {
        name: 'mini-connector',
        level: config.logLevel,
        redact: { paths: AGENT_REDACT_PATHS, censor: '[redacted]' },
      },
      // stdout is the journal under systemd (and WinSW's capture on Windows); the file is the agent's own.
      // Written synchronously: an update re-execs the process, and a line still in a buffer (a pipe full
      // under load, where an asynchronous write waits) would go with the old image, its reason with it.
      logFile ? pino.multistream([{ stream: stdoutSync() }, { stream: logFile }]) : stdoutSync(),
    );
  const databases = siteDatabases(config.databases);
  const data: DataDeps = {
    database: (name) => databases.get(name),
    policy: () => loadSitePolicy(config.policyFile, config.databases),
  };
  // One proxy and CA set for every call to the gateway: socket, challenge, buffer, artifacts.
  const network = createGatewayNetwork(config);
  const artifacts = options.artifacts ?? artifactClientOf(config, network, options.artifactCacheDir);
  const http: SiteHttpDeps = {
    policyFile: () => readSitePolicyFile(config.policyFile).file,
    secret: options.secrets ?? (() => undefined),
    ...(artifacts ? { artifacts } : {}),
  };
  const plainBuffer = createBufferClient({ gatewayUrl: config.gatewayUrl, network });
  const buffer = options.metrics ? options.metrics.countBuffer(plainBuffer) : plainBuffer;
  const operations: OperationTable = {
    'sql.query': createSqlQuery(data.database, () => policyOf(data)),
    'schema.discover': createSchemaDiscover(data.database, () => policyOf(data)),
    'agent.ping': async () => ({ from: AGENT_VERSION }),
    'data.extract': createDataExtract(data, buffer),
    'data.load': createDataLoad(data, buffer),
    'data.transfer': createDataTransfer(data),
    'data.transform': createDataTransform(buffer, {
      ...(config.transformHeapMb !== undefined ? { workerHeapMb: config.transformHeapMb } : {}),
      ...(config.transformYoungMb !== undefined ? { workerYoungMb: config.transformYoungMb } : {}),
    }),
    'http.read': createSiteHttpRead(http, buffer),
    'api.fetch-spec': createApiFetchSpec(
      {
        policyFile: http.policyFile,
        allowedUrlPrefixes: config.specFetch.allowedUrlPrefixes,
        maxBytes: config.specFetch.maxBytes,
      },
      buffer,
    ),
    'http.write': createSiteHttpWrite(http, buffer),
    'http.write-table': createSiteTableWrite(data, http),
    'policy.describe': createPolicyDescribe(http.policyFile),
    'sync.checksum': createSyncChecksum(data),
    'sync.extract': createSyncExtract(data, buffer),
    'sync.delete': createSyncDelete(data, buffer),
    'table.watch': createTableWatch(data, buffer),
  };
  const agent = new Agent({
    config,
    log: logger,
    audit: options.audit,
    network,
    ...(options.metrics ? { observer: options.metrics.observer } : {}),
    ...(options.tracer ? { tracer: options.tracer } : {}),
    operations: options.operations ? options.operations(operations) : operations,
    ...options.updates,
    doctor: {
      intervalMs: config.doctorIntervalMs,
      run: (ctx) =>
        runDoctorChecks(
          {
            databaseNames: Object.keys(config.databases),
            database: data.database,
            ...(config.policyFile ? { policyFile: config.policyFile } : {}),
            ...(options.stateDir ? { stateDir: options.stateDir } : {}),
          },
          ctx,
        ),
    },
  });
  return {
    agent,
    log: logger,
    network,
    close: async () => {
      await agent.stop();
      await databases.close();
      await options.audit?.close();
      logFile?.close();
    },
  };
}
