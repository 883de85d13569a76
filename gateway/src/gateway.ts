import { readFileSync } from 'node:fs';
import { SchemaSnapshot } from '@vansales/protocol';
import { connectTemporalClient, vansalesDataConverter } from '@vansales/temporal-config';
import type { SchemaRecorded } from '@vansales/activities';
import type { FastifyInstance } from 'fastify';
import { Client } from '@temporalio/client';
import { NativeConnection, type ActivityInterceptorsFactory } from '@temporalio/worker';
import { createAuditRepository, createRepositories, createSchemaRegistry, metadataTarget, openMetadataDb, type MetadataDb } from '@vansales/metadata';
import { openDataBuffer, parseTokenSecret, type DataBuffer } from '@vansales/buffer';
import type { GatewayConfig } from './config';
import { createBufferAccess, type GrantBufferAccess } from './buffer-access';
import { buildApp } from './app';
import { AgentHub } from './agent-hub/agent-hub';
import { bufferGrantPreparer } from './agent-hub/buffer-grants';
import { BUFFER_PURGE_SCHEDULE_ID, ensureBufferPurgeSchedule } from './buffer-purge-schedule';
import { createControlPlane, type ControlPlane } from './control-plane';
import type { Logger } from './logger';

export interface Gateway {
  app: FastifyInstance;
  hub: AgentHub;
  controlPlane: ControlPlane;
  db: MetadataDb;
  /** The encrypted temporary buffer (claim-check objects between activities). */
  buffer: DataBuffer;
  /** A token and path that let one agent read or write one buffer object through this gateway. */
  grantBufferAccess: GrantBufferAccess;
  /** Stops accepting, disconnects agents, stops their Workers, closes connections. */
  close(): Promise<void>;
}

/** Wires the gateway's dependencies from its config; used by main.ts and by tests alike. */
export async function createGateway(config: GatewayConfig, logger: Logger, options: { maxFrameBytes?: number; frameTap?: (raw: string) => void; purgeSchedule?: boolean; activityInterceptors?: ActivityInterceptorsFactory[] } = {}): Promise<Gateway> {
  const db = await openMetadataDb(metadataTarget(config));
  const buffer = await openDataBuffer(config);
  const bufferTokenSecret = parseTokenSecret(config.VSC_BUFFER_TOKEN_SECRET);
  const grantBufferAccess = createBufferAccess({ tokenSecret: bufferTokenSecret });
  const temporalConnection = await connectTemporalClient({ address: config.TEMPORAL_ADDRESS });
  const nativeConnection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const dataConverter = vansalesDataConverter(config.VSC_PAYLOAD_KEYS);
  const codec = dataConverter.payloadCodecs[0]!;
  const temporal = new Client({ connection: temporalConnection, namespace: config.TEMPORAL_NAMESPACE, dataConverter });
  const repos = createRepositories(db);
  const auditRepo = createAuditRepository(db);
  const schemaRegistry = createSchemaRegistry(db);
  const hub = new AgentHub({
    temporal: nativeConnection,
    namespace: config.TEMPORAL_NAMESPACE,
    heartbeatIntervalMs: config.VSC_AGENT_HEARTBEAT_MS,
    helloTimeoutMs: config.VSC_AGENT_HELLO_TIMEOUT_MS,
    maxPollersPerAgent: config.VSC_AGENT_MAX_POLLERS,
    dataConverter,
    log: logger,
    activityInterceptors: options.activityInterceptors,
    onOnline: async ({ tenantId, connectorId }, hello) => {
      await repos.touchConnector(connectorId);
      // Discovery runs on every connect; an unchanged structure records no new version.
      if (hello.capabilities.includes('schema.discover')) {
        for (const database of hello.databases) {
          controlPlane
            .discoverSchema(tenantId, connectorId, database)
            .catch((err) => logger.warn({ connectorId, database, err: (err as Error).message }, 'schema discovery on connect failed'));
        }
      }
    },
    audit: (entry) => auditRepo.append(entry),
    // Extract and load tasks get their object-scoped buffer grant here, outside Temporal history.
    prepareTask: bufferGrantPreparer(({ tenantId, connectorId, objectId, scope }) => {
      const grant = grantBufferAccess({ tenantId, connectorId, objectId, scope });
      return { objectId: grant.objectId, token: grant.token, scope: grant.scope, expiresAt: grant.expiresAt };
    }),
    transformResult: async ({ tenantId, connectorId }, operation, input, output) => {
      if (operation !== 'schema.discover') return output;
      const snapshot = SchemaSnapshot.parse(output);
      const database = (input as { database: string }).database;
      const recorded = await schemaRegistry.recordSnapshot(tenantId, connectorId, database, snapshot);
      return { database, ...recorded, tables: snapshot.schemas.reduce((n, s) => n + s.tables.length, 0) } satisfies SchemaRecorded;
    },
  });
  if (options.purgeSchedule) {
    // Every gateway node makes sure the one schedule exists and is current; Temporal keeps one per id.
    // A schedule problem must not keep the gateway down: the S3 lifecycle rule and the next
    // node's start still cover expiry.
    await ensureBufferPurgeSchedule(temporal, { workflowTaskQueue: config.VSC_WORKFLOW_TASK_QUEUE, cloudTaskQueue: config.VSC_CLOUD_TASK_QUEUE, everyMinutes: config.VSC_BUFFER_PURGE_MINUTES }).then(
      (outcome) => logger.info({ schedule: BUFFER_PURGE_SCHEDULE_ID, outcome, everyMinutes: config.VSC_BUFFER_PURGE_MINUTES }, 'buffer purge schedule in place'),
      (err: unknown) => logger.error({ schedule: BUFFER_PURGE_SCHEDULE_ID, err: (err as Error).message }, 'could not set up the buffer purge schedule'),
    );
  }
  const controlPlane = createControlPlane({ repos, temporal, hub, auditRepo, schemaRegistry, workflowTaskQueue: config.VSC_WORKFLOW_TASK_QUEUE, cloudTaskQueue: config.VSC_CLOUD_TASK_QUEUE });
  const app = await buildApp({
    logger,
    adminToken: config.VSC_ADMIN_TOKEN,
    controlPlane,
    hub,
    temporalConnection,
    maxFrameBytes: options.maxFrameBytes,
    frameTap: options.frameTap,
    payloadCodec: codec,
    codecRequiresAuth: config.VSC_CODEC_AUTH === 'admin-token',
    codecCorsOrigin: config.VSC_CODEC_CORS_ORIGIN,
    buffer: { dataBuffer: buffer, tokenSecret: bufferTokenSecret, maxInFlightChunks: config.VSC_BUFFER_MAX_INFLIGHT_CHUNKS },
    tls: config.VSC_TLS_CERT_FILE && config.VSC_TLS_KEY_FILE ? { cert: readFileSync(config.VSC_TLS_CERT_FILE), key: readFileSync(config.VSC_TLS_KEY_FILE) } : undefined,
  });
  let closed = false;
  return {
    app,
    hub,
    controlPlane,
    db,
    buffer,
    grantBufferAccess,
    async close() {
      if (closed) return;
      closed = true;
      await hub.close();
      await app.close();
      await nativeConnection.close();
      await temporalConnection.close();
      await db.destroy();
      await buffer.close();
    },
  };
}
