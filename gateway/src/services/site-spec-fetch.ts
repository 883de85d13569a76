import { createHash, randomUUID } from 'node:crypto';
import { isBufferError, newObjectId, type DataBuffer } from '@vansales/buffer';
import type { Repositories } from '@vansales/metadata';
import { ApiFetchSpecOutput, DEFAULT_SITE_SPEC_MAX_BYTES, type SiteSpecObjectT } from '@vansales/protocol';
import { apiSpecFetchWorkflow, type ApiSpecFetchInput } from '@vansales/workflows';
import { GatewayError, GatewayErrorCode } from '../errors';
import type { SiteSpecFetch } from './api-service';
import { requireConnector } from './ownership';
import type { WorkflowRuns } from './workflow-runs';

export interface SiteSpecFetchDeps {
  repos: Repositories;
  workflowRuns: WorkflowRuns;
  /**
   * Where an agent puts a specification too large for its answer (claim-check, as rows travel);
   * without a buffer the task names no object and the agent refuses such a specification.
   */
  buffer?: DataBuffer;
  /** The largest specification read back from the buffer (default 32 MiB, ingestion's own default). */
  maxBytes?: number;
}

/**
 * A specification on a site's network, fetched by that site's agent (a workflow on the connector's
 * queue, like the policy question): the agent refuses a URL its site does not allow, and a refusal
 * or an offline agent is a 422 naming why. Another tenant's connector is a 404. A large text comes
 * back through a buffer object of the tenant, read and checked here, and deleted once read.
 */
export function createSiteSpecFetch(deps: SiteSpecFetchDeps): SiteSpecFetch {
  const maxBytes = deps.maxBytes ?? DEFAULT_SITE_SPEC_MAX_BYTES;
  return async (tenantId, connectorId, url) => {
    await requireConnector(deps.repos, tenantId, connectorId);
    const objectId = deps.buffer ? newObjectId() : undefined;
    try {
      const handle = await deps.workflowRuns.start(
        apiSpecFetchWorkflow,
        `api-spec-fetch-${connectorId}-${randomUUID()}`,
        'builtin.api-spec-fetch',
        { tenantId, connectorId, url, ...(objectId ? { objectId } : {}) } satisfies ApiSpecFetchInput,
      );
      // What an agent answers is checked like any input from a site.
      const parsed = ApiFetchSpecOutput.safeParse(await deps.workflowRuns.result<unknown>(handle));
      if (!parsed.success)
        throw new GatewayError(
          GatewayErrorCode.workflowFailed,
          'the agent answered something that is not a specification',
        );
      const fetched = parsed.data;
      const text =
        fetched.object === undefined
          ? fetched.text!
          : await readSpecObject(deps.buffer, tenantId, objectId, fetched.object, maxBytes);
      return { text, contentType: fetched.contentType, sourceUrl: fetched.sourceUrl };
    } finally {
      // The object held the text only for this read; an attempt that failed half-way leaves chunks to
      // remove too. A delete that fails is left to the purge (the object expires): the answer stands.
      if (deps.buffer && objectId) await deps.buffer.deleteObject(tenantId, objectId).catch(() => undefined);
    }
  };
}

/** The text of the buffer object the agent named: the one this fetch asked for, within the size bound, its hash checked (exported for its test). */
export async function readSpecObject(
  buffer: DataBuffer | undefined,
  tenantId: string,
  objectId: string | undefined,
  object: SiteSpecObjectT,
  maxBytes: number,
): Promise<string> {
  if (!buffer || object.objectId !== objectId)
    throw new GatewayError(
      GatewayErrorCode.workflowFailed,
      'the agent named a buffer object this fetch did not ask for',
    );
  if (object.bytes > maxBytes)
    throw new GatewayError(
      GatewayErrorCode.badRequest,
      `the specification is ${object.bytes} bytes; this gateway registers at most ${maxBytes} bytes`,
    );
  const manifest = await fromBuffer(() => buffer.readManifest(tenantId, objectId));
  const stored = manifest.chunks.reduce((n, c) => n + c.bytes, 0);
  if (stored !== object.bytes)
    throw new GatewayError(
      GatewayErrorCode.workflowFailed,
      `the buffer object holds ${stored} bytes, the agent said ${object.bytes}`,
    );
  // Bounded: at most maxBytes were checked above, read one chunk at a time.
  const parts: Buffer[] = [];
  for (const chunk of manifest.chunks)
    parts.push(await fromBuffer(() => buffer.readChunk(tenantId, objectId, chunk.index)));
  const body = Buffer.concat(parts);
  if (createHash('sha256').update(body).digest('hex') !== object.sha256)
    throw new GatewayError(
      GatewayErrorCode.workflowFailed,
      'the specification in the buffer is not the one the agent fetched (hash)',
    );
  return body.toString('utf8');
}

/** A buffer refusal (object gone, tampered, another tenant's) as the gateway's 422 naming it; the rest as is. */
async function fromBuffer<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (!isBufferError(err)) throw err;
    throw new GatewayError(
      GatewayErrorCode.workflowFailed,
      `the specification's buffer object could not be read: ${err.message}`,
    );
  }
}
