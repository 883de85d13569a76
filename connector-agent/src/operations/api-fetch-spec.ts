import { createHash } from 'node:crypto';
import {
  AgentErrorType,
  ApiFetchSpecInput,
  DEFAULT_SITE_SPEC_MAX_BYTES,
  MAX_INLINE_SITE_SPEC_BYTES,
  SITE_SPEC_CHUNK_BYTES,
  type ApiFetchSpecInputT,
  type ApiFetchSpecOutputT,
  type SiteSpecObjectT,
} from '@vansales/protocol';
import { confineTo, createHttpTransport, DataflowError, DataflowErrorCode } from '@vansales/dataflow';
import type { BufferClient } from '../buffer/buffer-client';
import type { SitePolicyFile } from '../policy/site-policy';
import { OperationError, type OperationContext, type OperationHandler } from './operation';
import { parseOrRefuse, toOperationError } from './data-support';
import { apiScope, readPolicyFileOrRefuse, resolveOnSite } from './site-resolve';

export interface ApiFetchSpecDeps {
  /** Read for every task, so an edit of the site's file applies at once. */
  policyFile(): SitePolicyFile;
  /** URL prefixes of the agent's config (`specFetch.allowedUrlPrefixes`) it may fetch besides the policy's APIs. */
  allowedUrlPrefixes: readonly string[];
  /** `specFetch.maxBytes` of the agent's config (default DEFAULT_SITE_SPEC_MAX_BYTES); the site policy's overrides it. */
  maxBytes?: number;
  /** Default 30 s. */
  timeoutMs?: number;
}

const refused = (message: string) => new OperationError(AgentErrorType.egressRefused, message, false);

/** The rule that lets the agent GET `url`: the API of the site policy whose base URL and paths hold it, or a config prefix. */
function ruleFor(
  deps: ApiFetchSpecDeps,
  file: SitePolicyFile,
  url: URL,
): { allowedBy: string; base: URL; prefixes: string[]; timeoutMs: number } {
  for (const [name, api] of Object.entries(file.apis)) {
    if (!(api.methods as string[]).includes('GET')) continue;
    const { base, prefixes } = apiScope(api);
    try {
      confineTo(base, url, prefixes);
      return { allowedBy: name, base, prefixes, timeoutMs: api.timeoutMs };
    } catch {
      // Not this API's; try the next.
    }
  }
  for (const prefix of deps.allowedUrlPrefixes) {
    const base = new URL(prefix);
    try {
      confineTo(base, url, [base.pathname]);
      return { allowedBy: 'allowlist', base, prefixes: [base.pathname], timeoutMs: deps.timeoutMs ?? 30_000 };
    } catch {
      // Not under this prefix.
    }
  }
  throw refused(
    `${url.origin}${url.pathname} is neither under an API of the site policy (GET allowed) nor under specFetch.allowedUrlPrefixes of the agent's config: the site adds it there to let the cloud register it`,
  );
}

/** The size cap that applies and the setting that sets it (named in the refusal, so the site knows what to raise). */
function capOf(deps: ApiFetchSpecDeps, file: SitePolicyFile): { bytes: number; setting: string } {
  if (file.specFetch?.maxBytes !== undefined)
    return { bytes: file.specFetch.maxBytes, setting: 'specFetch.maxBytes of the site policy file' };
  return { bytes: deps.maxBytes ?? DEFAULT_SITE_SPEC_MAX_BYTES, setting: "specFetch.maxBytes of the agent's config" };
}

const mib = (bytes: number) => `${+(bytes / 1024 ** 2).toFixed(1)} MiB`;

/**
 * A specification too large to answer inline, into the buffer object the task names (the gateway
 * reads it back, checks its size and hash, and deletes it): in pieces, committed as one object.
 */
async function storeInBuffer(
  buffer: BufferClient | undefined,
  input: ApiFetchSpecInputT,
  body: Buffer,
  ctx: OperationContext,
): Promise<SiteSpecObjectT> {
  const grant = input.buffer;
  if (!buffer || !input.objectId || !grant || grant.scope !== 'write' || grant.objectId !== input.objectId)
    throw new OperationError(
      AgentErrorType.badInput,
      `the specification is ${body.length} bytes, more than the ${MAX_INLINE_SITE_SPEC_BYTES} an answer carries, and the task names no buffer object to put it in (its gateway is older than this agent: upload the specification as text)`,
      false,
    );
  let chunkCount = 0;
  for (let offset = 0; offset < body.length; offset += SITE_SPEC_CHUNK_BYTES, chunkCount++)
    await buffer.putChunk(grant, chunkCount, body.subarray(offset, offset + SITE_SPEC_CHUNK_BYTES), 0, ctx.signal);
  await buffer.commit(grant, { schema: { format: 'api-specification' }, chunkCount, rowCount: 0 }, ctx.signal);
  return { objectId: input.objectId, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') };
}

/**
 * `api.fetch-spec`: GETs an API specification on the site's network for the gateway to register.
 * Only what the site allows (its policy's APIs, or its allowlist), same-origin redirects under the
 * same rule, within the API's timeout, at most the site's cap (`specFetch.maxBytes`, default 32 MiB).
 * Up to MAX_INLINE_SITE_SPEC_BYTES the text is the answer; a larger one goes through the buffer
 * object the task names. Sends no credential: a specification that needs one is uploaded as text.
 */
export function createApiFetchSpec(deps: ApiFetchSpecDeps, buffer?: BufferClient): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(ApiFetchSpecInput, raw, 'api.fetch-spec');
    const url = new URL(input.url);
    const file = readPolicyFileOrRefuse(deps.policyFile, AgentErrorType.egressRefused);
    const rule = ruleFor(deps, file, url);
    const cap = capOf(deps, file);
    const send = createHttpTransport({
      check: (u) => void confineTo(rule.base, u, rule.prefixes),
      resolve: resolveOnSite,
      timeoutMs: rule.timeoutMs,
      maxResponseBytes: cap.bytes,
    });
    try {
      const response = await send(
        { method: 'GET', url, headers: { accept: 'application/json, application/yaml, text/yaml, */*' } },
        ctx.signal,
      ).catch((err: unknown) => {
        // The transport stops reading at the cap (or refuses a declared length past it): say which setting that is.
        if (
          err instanceof DataflowError &&
          err.code === DataflowErrorCode.HTTP_FAILED &&
          err.message.includes(`more than ${cap.bytes} bytes`)
        )
          throw new OperationError(
            AgentErrorType.httpFailed,
            `the specification at ${url.origin}${url.pathname} is larger than ${mib(cap.bytes)} (${cap.bytes} bytes), the cap set by ${cap.setting}: the site raises it there, or uploads the specification as text`,
            false,
          );
        throw err;
      });
      if (response.status !== 200)
        throw new OperationError(
          AgentErrorType.httpFailed,
          `${url.origin}${url.pathname} answered ${response.status}, not a specification`,
          response.status >= 500 || response.status === 429,
        );
      const contentType = response.headers['content-type'];
      const content =
        response.body.length <= MAX_INLINE_SITE_SPEC_BYTES
          ? { text: response.body.toString('utf8') }
          : { object: await storeInBuffer(buffer, input, response.body, ctx) };
      return {
        ...content,
        ...(typeof contentType === 'string' ? { contentType: contentType.slice(0, 200) } : {}),
        sourceUrl: response.url.toString(),
        allowedBy: rule.allowedBy,
      } satisfies ApiFetchSpecOutputT;
    } catch (err) {
      throw toOperationError(err, AgentErrorType.httpFailed);
    }
  };
}
