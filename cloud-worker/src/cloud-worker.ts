import { type NativeConnection, Worker } from '@temporalio/worker';
import { payloadCompatibility, vansalesDataConverter } from '@vansales/temporal-config';
import type { CloudWorkerConfig } from './config';
import { workflowsPath } from './workflow-bundle';
import type { CloudWorkerMetrics } from './worker-metrics';
import type { Tracing } from '@vansales/tracing';
import { tracingActivityInterceptors, workflowTracingModules, workflowTracingSinks } from '@vansales/tracing/temporal';
import { loadBufferConfig, openDataBuffer, type DataBuffer } from '@vansales/buffer';
import { createCloudActivities, type ApiOperationDeps, type CloudDeps } from '@vansales/activities/cloud';
import {
  firstCredentials,
  loadCloudCredentials,
  loadCloudDatabases,
  type CloudCredentials,
} from '@vansales/activities/cloud';
import { createApiCallRepository, createCredentialRepository, openMetadataDb } from '@vansales/metadata';
import { loadOperation, openArtifactReader } from '@vansales/sdk-factory/registry';
import { createMetadataCredentialStore, localKeyWrapper, namedCredentialHeaders } from '@vansales/sdk-factory/auth';

/** The cloud worker: workflow tasks on the `workflows` queue (cloud activities join in later issues). */
export async function createCloudWorker(
  config: CloudWorkerConfig,
  connection: NativeConnection,
  /** Traces (main.ts starts them from OTEL_*): workflow and activity-scheduling spans. */
  tracing?: Tracing,
): Promise<Worker> {
  // A prebuilt bundle has the tracing interceptors compiled in (bundleWorkflows); a source build gets them here.
  const workflowSource = config.VSC_WORKFLOW_BUNDLE
    ? { workflowBundle: { codePath: config.VSC_WORKFLOW_BUNDLE } }
    : { workflowsPath: workflowsPath() };
  return Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.VSC_WORKFLOW_TASK_QUEUE,
    dataConverter: vansalesDataConverter(config.VSC_PAYLOAD_KEYS, payloadCompatibility(config)),
    ...workflowSource,
    ...(config.VSC_WORKFLOW_BUNDLE ? {} : { interceptors: { workflowModules: workflowTracingModules() } }),
    sinks: workflowTracingSinks(tracing),
    maxConcurrentWorkflowTaskExecutions: config.VSC_MAX_WORKFLOW_TASKS,
  });
}

/**
 * The cloud worker's dependencies from its environment: the buffer (when VSC_BUFFER_KEYS is set;
 * the same settings as the gateway's), the cloud databases and credentials files, the HTTP egress
 * settings, the transform steps' heap (VSC_TRANSFORM_*).
 */
export async function cloudDepsFromEnv(
  config: CloudWorkerConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CloudDeps> {
  const buffer = env.VSC_BUFFER_KEYS ? await openDataBuffer(loadBufferConfig(env)) : undefined;
  const apiOperations = buffer ? await apiOperationsOf(config, buffer) : undefined;
  return {
    buffer,
    databases: loadCloudDatabases(config.VSC_CLOUD_DATABASES_FILE),
    credentials: (await cloudCredentialsOf(config)).credentials,
    ...(apiOperations ? { apiOperations } : {}),
    egress: {
      allowPrivate: config.VSC_CLOUD_HTTP_ALLOW_PRIVATE,
      timeoutMs: config.VSC_CLOUD_HTTP_TIMEOUT_MS,
      maxResponseBytes: config.VSC_CLOUD_HTTP_MAX_RESPONSE_BYTES,
    },
    transformLimits: {
      ...(config.VSC_TRANSFORM_HEAP_MB !== undefined ? { workerHeapMb: config.VSC_TRANSFORM_HEAP_MB } : {}),
      ...(config.VSC_TRANSFORM_YOUNG_MB !== undefined ? { workerYoungMb: config.VSC_TRANSFORM_YOUNG_MB } : {}),
    },
  };
}

/**
 * Where HTTP steps' named credentials come from: the cloud credential store (the metadata store's
 * PostgreSQL, opened with the master keys) when configured, then the 0600 file as the fallback.
 * `close` ends the store's connection pool (a process keeps it for its lifetime).
 */
export async function cloudCredentialsOf(
  config: CloudWorkerConfig,
): Promise<{ credentials: CloudCredentials; close(): Promise<void> }> {
  const file = loadCloudCredentials(config.VSC_CLOUD_CREDENTIALS_FILE);
  if (!config.DATABASE_URL || !(config.VSC_CREDENTIALS_KEYS || config.VSC_CREDENTIALS_KEYS_FILE))
    return { credentials: file, close: async () => {} };
  const wrapper = localKeyWrapper(config);
  const db = await openMetadataDb({ kind: 'postgres', url: config.DATABASE_URL });
  const store = createMetadataCredentialStore({ repository: createCredentialRepository(db), wrapper });
  return { credentials: firstCredentials(namedCredentialHeaders(store), file), close: () => db.destroy() };
}

/**
 * HTTP steps that name an API operation (issue 11): the artifacts from the gateway's registry (the
 * metadata store's records, the buffer's store's bytes), verified under VSC_REGISTRY_TRUSTED_KEYS;
 * the operations' credentials from the credential store; every call into the audit (api_calls). Without
 * DATABASE_URL and the keys such a step is refused with a message naming them. `close` ends its
 * connection pool (the process keeps it for its lifetime; the e2e harness closes it).
 */
export async function apiOperationsOf(
  config: CloudWorkerConfig,
  buffer: DataBuffer,
  log: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
): Promise<(ApiOperationDeps & { close(): Promise<void> }) | undefined> {
  if (!config.DATABASE_URL || !config.VSC_REGISTRY_TRUSTED_KEYS) return undefined;
  const db = await openMetadataDb({ kind: 'postgres', url: config.DATABASE_URL });
  const registry = openArtifactReader({ trustedKeys: config.VSC_REGISTRY_TRUSTED_KEYS, store: buffer.store, db });
  const audit = createApiCallRepository(db);
  const credentials =
    config.VSC_CREDENTIALS_KEYS || config.VSC_CREDENTIALS_KEYS_FILE
      ? createMetadataCredentialStore({ repository: createCredentialRepository(db), wrapper: localKeyWrapper(config) })
      : undefined;
  return {
    load: (tenantId, ref) => loadOperation(registry, tenantId, ref),
    ...(credentials ? { credentials } : {}),
    // The audit must never fail a step: a record that cannot be written is said, the call stands.
    onCall: (record) =>
      void audit
        .recordApiCall({ ...record, durationMs: Math.round(record.durationMs) })
        .catch((err: Error) => log(`api call audit not written: ${err.message}`)),
    close: () => db.destroy(),
  };
}

/** The cloud worker's activity side: cloud activities on VSC_CLOUD_TASK_QUEUE. */
export async function createCloudActivityWorker(
  config: CloudWorkerConfig,
  connection: NativeConnection,
  deps: CloudDeps = {},
  /** Times each activity and counts buffer bytes (VSC_CLOUD_WORKER_METRICS_PORT). */
  metrics?: CloudWorkerMetrics,
  /** A span per cloud activity (OTEL_EXPORTER_OTLP_ENDPOINT). */
  tracing?: Tracing,
): Promise<Worker> {
  const activities = createCloudActivities(
    metrics && deps.buffer ? { ...deps, buffer: metrics.countBuffer(deps.buffer) } : deps,
  );
  return Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.VSC_CLOUD_TASK_QUEUE,
    dataConverter: vansalesDataConverter(config.VSC_PAYLOAD_KEYS, payloadCompatibility(config)),
    activities,
    interceptors: {
      activity: [
        ...tracingActivityInterceptors(tracing),
        ...(metrics ? [metrics.interceptor(Object.keys(activities))] : []),
      ],
    },
  });
}
