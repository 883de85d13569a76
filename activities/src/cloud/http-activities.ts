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
import type { DatasetRef, DefinitionCloudActivities, HttpReadInput, HttpWriteInput } from '@vansales/definitions';
import type { CloudCredentials } from './cloud-credentials';

export type HttpActivities = Pick<DefinitionCloudActivities, 'httpRead' | 'httpWrite'>;

export interface HttpActivityDeps {
  buffer: DataBuffer;
  credentials: CloudCredentials;
  egress: EgressSettings;
  /** In-attempt retries of 429/5xx; tests shorten the waits. */
  retry?: RetryOptions;
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

  /** The endpoint's base, its transport (every URL confined to it) and the credential's headers. */
  const prepare = async (
    tenantId: string,
    endpoint: HttpReadInput['request']['endpoint'],
    path: string,
  ): Promise<{ url: URL; send: HttpSend; headers: Record<string, string> }> => {
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
        const { url, send, headers } = await prepare(input.tenantId, input.request.endpoint, input.request.path);
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
        const { url, send, headers } = await prepare(input.tenantId, input.request.endpoint, input.request.path);
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
