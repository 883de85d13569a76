import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import {
  AgentErrorType,
  SiteHttpReadInput,
  SiteHttpWriteInput,
  type SiteHttpReadOutputT,
  type SiteHttpWriteOutputT,
} from '@vansales/protocol';
import {
  confineTo,
  createHttpTransport,
  DataflowError,
  DataflowErrorCode,
  DEFAULT_RETRY,
  readHttp,
  resumeState,
  urlUnder,
  writeHttp,
  type HttpReadPosition,
  type HttpSend,
  type HttpWritePosition,
  type RetryOptions,
} from '@vansales/dataflow';
import type { BufferClient } from '../buffer/buffer-client';
import { SitePolicyError, type SitePolicyFile } from '../policy/site-policy';
import { OperationError, type OperationHandler } from './operation';
import { grantOf, parseOrRefuse, toOperationError } from './data-support';

/** What the HTTP operations need: the site's policy file as written, and the agent's vault. */
export interface SiteHttpDeps {
  /** Read for every task, so an edit of the site's file applies at once. */
  policyFile(): SitePolicyFile;
  /** A secret of the agent's vault by name (API credentials never leave the site). */
  secret(name: string): string | undefined;
  /** In-attempt retries of 429/5xx (tests shorten the waits). */
  retry?: RetryOptions;
}

const refused = (message: string) => new OperationError(AgentErrorType.policyRefused, message, false);

/**
 * The API a task names, as the site's policy describes it: the task's path resolved under the
 * API's base URL and confined to its allowed paths, a transport that checks every later URL (cursor,
 * Link header, redirect) the same way, and the credential's headers from the vault.
 */
function siteApi(
  deps: SiteHttpDeps,
  name: string,
  method: string,
  path: string,
): { url: URL; send: HttpSend; headers: Record<string, string> } {
  let file: SitePolicyFile;
  try {
    file = deps.policyFile();
  } catch (err) {
    if (err instanceof SitePolicyError) throw refused(err.message);
    throw err;
  }
  const api = Object.hasOwn(file.apis, name) ? file.apis[name] : undefined;
  if (!api) throw refused(`the site policy has no API named ${name}; the site lists its APIs under "apis"`);
  if (!(api.methods as string[]).includes(method))
    throw refused(`the site policy allows ${api.methods.join(', ')} on API ${name}, not ${method}`);
  const base = new URL(api.baseUrl);
  const root = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  const prefixes = api.paths.map((p) => `${root}${p.replace(/^\/+/, '')}`);
  let url: URL;
  try {
    url = confineTo(base, urlUnder(base, path), prefixes);
  } catch (err) {
    throw toOperationError(err);
  }
  const send = createHttpTransport({
    check: (u) => void confineTo(base, u, prefixes),
    // The site network is where these APIs live: private addresses are the point here.
    resolve: async (hostname) => {
      const host = hostname.replace(/^\[|\]$/g, '');
      if (isIP(host)) return { address: host, family: isIP(host) };
      try {
        return await lookup(host);
      } catch (err) {
        throw new DataflowError(
          DataflowErrorCode.HTTP_UNAVAILABLE,
          `${host} could not be resolved (${(err as NodeJS.ErrnoException).code ?? 'DNS error'})`,
        );
      }
    },
    timeoutMs: api.timeoutMs,
    maxResponseBytes: api.maxResponseBytes,
  });
  const headers: Record<string, string> = {};
  if (api.credential) {
    const secret = deps.secret(api.credential.vault);
    if (secret === undefined)
      throw refused(
        `the site policy's API ${name} names the vault secret "${api.credential.vault}", which the vault does not hold`,
      );
    if (api.credential.kind === 'bearer') headers.authorization = `Bearer ${secret}`;
    else if (api.credential.kind === 'basic')
      headers.authorization = `Basic ${Buffer.from(`${api.credential.username}:${secret}`).toString('base64')}`;
    else headers[api.credential.name.toLowerCase()] = secret;
  }
  return { url, send, headers };
}

/** `http.read`: pages of a site API into the buffer object the gateway granted. */
export function createSiteHttpRead(deps: SiteHttpDeps, buffer: BufferClient): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(SiteHttpReadInput, raw, 'http.read');
    const grant = grantOf(input, 'write', 'http.read');
    const { url, send, headers } = siteApi(deps, input.api, input.method, input.path);
    try {
      const result = await readHttp(
        {
          method: input.method,
          url,
          query: input.query,
          records: input.records,
          pagination: input.pagination,
          maxPages: input.maxPages,
        },
        {
          send,
          retry: deps.retry ?? DEFAULT_RETRY,
          headers,
          signal: ctx.signal,
          resume: resumeState<HttpReadPosition & { objectId: string }>(
            ctx.resumeFrom,
            (r) => r.objectId === input.objectId,
          ),
          sink: {
            put: (index, bytes, rows) => buffer.putChunk(grant, index, bytes, rows, ctx.signal),
            commit: (manifest) => buffer.commit(grant, manifest, ctx.signal),
          },
        },
        (position) => ctx.progress({ objectId: input.objectId, ...position }),
      );
      return { objectId: input.objectId, ...result } satisfies SiteHttpReadOutputT;
    } catch (err) {
      throw toOperationError(err);
    }
  };
}

/** `http.write`: a buffer object to a site API, per record or batch. */
export function createSiteHttpWrite(deps: SiteHttpDeps, buffer: BufferClient): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(SiteHttpWriteInput, raw, 'http.write');
    const grant = grantOf(input, 'read', 'http.write');
    const { url, send, headers } = siteApi(deps, input.api, input.method, input.path);
    try {
      const result = await writeHttp(
        {
          method: input.method,
          url,
          batchSize: input.batchSize,
          body: input.body,
          idempotencyKey: input.idempotencyKey,
        },
        {
          send,
          retry: deps.retry ?? DEFAULT_RETRY,
          headers,
          signal: ctx.signal,
          resume: resumeState<HttpWritePosition & { objectId: string }>(
            ctx.resumeFrom,
            (r) => r.objectId === input.objectId,
          ),
          source: {
            objectId: input.objectId,
            manifest: async () => {
              const m = await buffer.manifest(grant, ctx.signal);
              return { schema: m.schema, chunkCount: m.chunks.length, rowCount: m.rowCount };
            },
            chunk: (index) => buffer.getChunk(grant, index, ctx.signal),
          },
        },
        (position) => ctx.progress({ objectId: input.objectId, ...position }),
      );
      return result satisfies SiteHttpWriteOutputT;
    } catch (err) {
      throw toOperationError(err);
    }
  };
}
