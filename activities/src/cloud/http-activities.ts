import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { AgentErrorType } from '@vansales/protocol';
import { activityFailure } from './activity-failure';
import type { DataBuffer } from '@vansales/buffer';
import {
  createHttpTransport,
  confineTo,
  DEFAULT_RETRY,
  readHttp,
  resumeState,
  urlUnder,
  writeHttp,
  cloudEgress,
  type EgressSettings,
  type HttpReadPosition,
  type HttpSend,
  type HttpWritePosition,
  type RetryOptions,
} from '@vansales/dataflow';
import type {
  ApiOperationRef,
  DatasetRef,
  DefinitionCloudActivities,
  HttpReadInput,
  HttpWriteInput,
} from '@vansales/definitions';
import { createAuthenticator, schemeCredentialProvider, type CredentialStore } from '@vansales/sdk-factory/auth';
import type { OperationManifest } from '@vansales/sdk-factory/manifest';
import { createSandbox, operationTransport, type Sandbox } from '@vansales/sdk-factory/runner';
import type { EgressResolver } from '@vansales/sdk-factory/sandbox';
import type { ApiCallRecord } from '@vansales/metadata';
import type { CloudCredentials } from './cloud-credentials';

export type HttpActivities = Pick<DefinitionCloudActivities, 'httpRead' | 'httpWrite'>;

export interface HttpActivityDeps {
  buffer: DataBuffer;
  credentials: CloudCredentials;
  egress: EgressSettings;
  /** In-attempt retries of 429/5xx; tests shorten the waits. */
  retry?: RetryOptions;
  /** Steps that name a registered API operation (issue 11): without it such a step is refused. */
  apiOperations?: ApiOperationDeps;
}

/** One call of an API operation, for the audit (the metadata store's one shape of it). */
export type { ApiCallRecord };

export interface ApiOperationDeps {
  /**
   * The pinned operation's manifest and bundle, verified (the registry's `loadOperation`). Refusals are
   * the registry's errors: NOT_FOUND and BAD_INPUT end the step; a failed verification too, never run.
   */
  load(tenantId: string, ref: ApiOperationRef): Promise<{ manifest: OperationManifest; bundle: string }>;
  /** The tenants' credentials for the operations' security schemes (`<apiId>.<scheme>`). */
  credentials?: CredentialStore;
  /** One sandbox per worker (default: made here with the sandbox's default limits). */
  sandbox?: Sandbox;
  /** Told after every call (the audit store); must not throw. */
  onCall?: (record: ApiCallRecord) => void;
  /** DNS for the egress guard (tests map names to loopback); default the system's. */
  resolver?: EgressResolver;
}

/** The registry's refusals by their codes (its error class stays on the registry's side of the injection). */
function registryRefusal(err: unknown): 'not-found' | 'unverified' | undefined {
  if (!(err instanceof Error) || err.name !== 'RegistryError') return undefined;
  const code = (err as { code?: unknown }).code;
  if (code === 'NOT_FOUND' || code === 'BAD_INPUT') return 'not-found';
  if (code === 'TAMPERED' || code === 'BAD_SIGNATURE' || code === 'UNTRUSTED_KEY') return 'unverified';
  return undefined;
}

const badInput = (message: string) =>
  ApplicationFailure.create({ type: AgentErrorType.badInput, message, nonRetryable: true });

/**
 * The cloud's HTTP source and destination steps: an API on the internet, reached through the egress
 * guard (public addresses, pinned, same host), with the tenant's named credential attached here.
 * Records go to (or come from) the buffer chunk by chunk; heartbeats carry the page or record
 * reached, so a retried attempt resumes instead of reading or posting again.
 */
export function createHttpActivities(deps: HttpActivityDeps): HttpActivities {
  const retry = deps.retry ?? DEFAULT_RETRY;
  const sandbox = deps.apiOperations ? (deps.apiOperations.sandbox ?? createSandbox()) : undefined;

  /**
   * A step that names an operation: its requests run through the operation's bundle in the sandbox
   * (manifest and bundle verified by the registry), the credentials of its security scheme attached
   * by the host from the tenant's store, the cloud's egress rules on the endpoint's host.
   */
  const operationSend = async (tenantId: string, step: string, ref: ApiOperationRef, base: URL): Promise<HttpSend> => {
    const ops = deps.apiOperations;
    if (!ops || !sandbox)
      throw badInput(
        `step ${step} calls operation ${ref.key} of API ${ref.apiId}, but this cloud worker has no API registry configured`,
      );
    let loaded;
    try {
      loaded = await ops.load(tenantId, ref);
    } catch (err) {
      const refusal = registryRefusal(err);
      if (refusal === 'not-found') throw badInput(`step ${step}: ${(err as Error).message}`);
      // Tampered, unsigned or untrusted artifacts: never run, and retrying does not mend them.
      if (refusal === 'unverified')
        throw ApplicationFailure.create({
          type: AgentErrorType.badInput,
          message: `step ${step}: the artifacts of ${ref.apiId} v${ref.version} did not verify (${(err as { code: string }).code}); register the API again`,
          nonRetryable: true,
        });
      throw err;
    }
    const { manifest, bundle } = loaded;
    const store = ops.credentials;
    const credentials = store
      ? schemeCredentialProvider(
          // Per step: the schemes are this version's, whatever another version of the API declares.
          createAuthenticator({ store, schemesOf: async () => manifest.securitySchemes }),
          { tenantId, apiRef: ref.apiId },
        )
      : undefined;
    const port = base.port ? Number(base.port) : base.protocol === 'https:' ? 443 : 80;
    const info = Context.current().info;
    return operationTransport(
      {
        manifest,
        operationKey: ref.key,
        bundle,
        serverUrl: base.href,
        stepId: step,
        onCall: (facts) =>
          ops.onCall?.({
            tenantId,
            // The run as the REST API names it (the workflow id, which continue-as-new keeps), as site calls are.
            ...(info.workflowExecution ? { runId: info.workflowExecution.workflowId } : {}),
            stepId: step,
            apiId: ref.apiId,
            version: ref.version,
            operationKey: ref.key,
            side: 'cloud',
            ...facts,
          }),
      },
      {
        sandbox,
        egress: {
          side: 'cloud',
          allow: [{ host: base.hostname, ports: [port] }],
          allowPrivate: deps.egress.allowPrivate,
          ...(ops.resolver ? { resolver: ops.resolver } : {}),
          timeoutMs: deps.egress.timeoutMs,
          maxResponseBytes: deps.egress.maxResponseBytes,
        },
        ...(credentials ? { credentials } : {}),
      },
    );
  };

  /** The endpoint's base, its transport (every URL confined to it) and the credential's headers. */
  const prepare = async (
    tenantId: string,
    step: string,
    request: HttpReadInput['request'] | HttpWriteInput['request'],
  ): Promise<{ url: URL; send: HttpSend; headers: Record<string, string> }> => {
    const { endpoint, path } = request;
    if (endpoint.kind !== 'http')
      throw badInput(
        `a ${endpoint.kind} endpoint is called by the agent of connector ${endpoint.connectorId}, not by the cloud`,
      );
    let base: URL;
    try {
      base = new URL(endpoint.baseUrl);
    } catch {
      throw badInput('the endpoint baseUrl is not a URL');
    }
    const url = urlUnder(base, path);
    // The operation's security scheme brings its credentials; a named credential would be a second, unchecked one.
    if (request.operation) {
      if (endpoint.credential)
        throw badInput(
          `step ${step} calls operation ${request.operation.key}: its credentials come from the API's security scheme, remove the endpoint's credential`,
        );
      return { url, send: await operationSend(tenantId, step, request.operation, base), headers: {} };
    }
    const root = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
    const egress = cloudEgress(deps.egress);
    const send = createHttpTransport({
      check: (u) => {
        egress.check(u);
        confineTo(base, u, [root]);
      },
      resolve: egress.resolve,
      timeoutMs: deps.egress.timeoutMs,
      maxResponseBytes: deps.egress.maxResponseBytes,
    });
    let headers: Record<string, string> = {};
    if (endpoint.credential) {
      const found = await deps.credentials.headers(tenantId, endpoint.credential);
      if (!found)
        throw ApplicationFailure.create({
          type: AgentErrorType.badInput,
          message: `tenant ${tenantId} has no cloud credential named ${endpoint.credential} (VSC_CLOUD_CREDENTIALS_FILE or the credential store)`,
          nonRetryable: true,
        });
      headers = found;
    }
    return { url, send, headers };
  };

  return {
    async httpRead(input: HttpReadInput): Promise<DatasetRef> {
      const ctx = Context.current();
      try {
        const { url, send, headers } = await prepare(input.tenantId, input.step, input.request);
        const result = await readHttp(
          {
            method: input.request.method,
            url,
            query: input.request.query,
            records: input.request.records,
            pagination: input.request.pagination,
            maxPages: input.request.maxPages,
          },
          {
            send,
            retry,
            headers,
            signal: ctx.cancellationSignal,
            resume: resumeState<HttpReadPosition & { objectId: string }>(
              ctx.info.heartbeatDetails,
              (r) => r.objectId === input.outputObjectId,
            ),
            sink: {
              begin: async () =>
                void (await deps.buffer.createObject(input.tenantId, { objectId: input.outputObjectId })),
              put: async (index, bytes, rows) =>
                void (await deps.buffer.writeChunk(input.tenantId, input.outputObjectId, index, bytes, rows)),
              commit: async (manifest) =>
                void (await deps.buffer.commit(input.tenantId, input.outputObjectId, manifest)),
            },
          },
          (position) => ctx.heartbeat({ objectId: input.outputObjectId, ...position }),
        );
        return { objectId: input.outputObjectId, rows: result.rowCount, columns: result.columns, writtenBy: 'cloud' };
      } catch (err) {
        throw activityFailure(err);
      }
    },

    async httpWrite(input: HttpWriteInput) {
      const ctx = Context.current();
      try {
        const { url, send, headers } = await prepare(input.tenantId, input.step, input.request);
        const objectId = input.input.objectId;
        return await writeHttp(
          {
            method: input.request.method,
            url,
            batchSize: input.request.batchSize,
            body: input.request.body,
            idempotencyKey: input.request.idempotencyKey,
          },
          {
            send,
            retry,
            headers,
            signal: ctx.cancellationSignal,
            resume: resumeState<HttpWritePosition & { objectId: string; step: string }>(
              ctx.info.heartbeatDetails,
              (r) => r.objectId === objectId && r.step === input.step,
            ),
            // The tenant's own objects only: the buffer answers another tenant's id as unknown.
            source: {
              objectId,
              manifest: async () => {
                const m = await deps.buffer.readManifest(input.tenantId, objectId);
                return { schema: m.schema, chunkCount: m.chunks.length, rowCount: m.rowCount };
              },
              chunk: (index) => deps.buffer.readChunk(input.tenantId, objectId, index),
            },
          },
          (position) => ctx.heartbeat({ objectId, step: input.step, ...position }),
        );
      } catch (err) {
        throw activityFailure(err);
      }
    },
  };
}
