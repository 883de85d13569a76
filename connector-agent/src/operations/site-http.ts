import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AgentErrorType,
  type SiteApiOperationT,
  SiteHttpReadInput,
  SiteHttpWriteInput,
  SiteTableWriteInput,
  type SiteHttpReadOutputT,
  type SiteHttpWriteOutputT,
  type SiteTableWriteOutputT,
} from '@vansales/protocol';
import {
  confineTo,
  createHttpTransport,
  DEFAULT_RETRY,
  extractTable,
  readHttp,
  resumeState,
  urlUnder,
  writeHttp,
  type HttpReadPosition,
  type HttpSend,
  type HttpWritePosition,
  type HttpWriteRequest,
  type RetryOptions,
} from '@vansales/dataflow';
import { OperationManifest } from '@vansales/sdk-factory/manifest';
import { createSandbox, operationTransport, type OperationCallFacts, type Sandbox } from '@vansales/sdk-factory/runner';
import { operationBundleName } from '@vansales/sdk-factory/signing';
import type { BufferClient } from '../buffer/buffer-client';
import type { SitePolicyFile } from '../policy/site-policy';
import { OperationError, type OperationContext, type OperationHandler } from './operation';
import { createApiCallLog } from './api-call-log';
import { apiScope, readPolicyFileOrRefuse, resolveOnSite } from './site-resolve';
import { grantOf, openConfigured, parseOrRefuse, policyOf, toOperationError, type DataDeps } from './data-support';

/** What the HTTP operations need: the site's policy file as written, and the agent's vault. */
export interface SiteHttpDeps {
  /** Read for every task, so an edit of the site's file applies at once. */
  policyFile(): SitePolicyFile;
  /** A secret of the agent's vault by name (API credentials never leave the site). */
  secret(name: string): string | undefined;
  /** In-attempt retries of 429/5xx (tests shorten the waits). */
  retry?: RetryOptions;
  /**
   * The SDK factory's artifacts by hash (the agent's artifact client: verified, cached on disk), for
   * steps that call a registered API operation; without it such a step is refused.
   */
  artifacts?: { fetch(sha256: string, kind: 'manifest' | `bundle:${string}`): Promise<Buffer> };
  /** The sandbox operations run in (default: one made on first use). */
  sandbox?: Sandbox;
}

const refused = (message: string) => new OperationError(AgentErrorType.policyRefused, message, false);

/**
 * The API a task names, as the site's policy describes it: the task's path resolved under the
 * API's base URL and confined to its allowed paths, a transport that checks every later URL (cursor,
 * Link header, redirect) the same way, and the credential's headers from the vault.
 */
async function siteApi(
  deps: SiteHttpDeps,
  name: string,
  method: string,
  path: string,
  operation?: SiteApiOperationT,
  onCall?: (facts: OperationCallFacts) => void,
): Promise<{ url: URL; send: HttpSend; headers: Record<string, string> }> {
  const file = readPolicyFileOrRefuse(deps.policyFile, AgentErrorType.policyRefused);
  const api = Object.hasOwn(file.apis, name) ? file.apis[name] : undefined;
  if (!api) throw refused(`the site policy has no API named ${name}; the site lists its APIs under "apis"`);
  if (!(api.methods as string[]).includes(method))
    throw refused(`the site policy allows ${api.methods.join(', ')} on API ${name}, not ${method}`);
  const { base, prefixes } = apiScope(api);
  let url: URL;
  try {
    url = confineTo(base, urlUnder(base, path), prefixes);
  } catch (err) {
    throw toOperationError(err);
  }
  const send = createHttpTransport({
    check: (u) => void confineTo(base, u, prefixes),
    // The site network is where these APIs live: private addresses are the point here.
    resolve: resolveOnSite,
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
  if (operation) {
    // The policy's checks above stand (the API, its methods, its paths); the operation's run adds its own.
    const run = await operationSend(deps, operation, api.baseUrl, headers, api, onCall);
    return {
      url,
      send: (request, signal) => (confineTo(base, request.url, prefixes), run(request, signal)),
      headers: {},
    };
  }
  return { url, send, headers };
}

/** The artifacts of a pinned operation, fetched by hash and checked against it (whatever the cache did). */
async function operationArtifacts(deps: SiteHttpDeps, operation: SiteApiOperationT) {
  const { manifestSha256, bundleSha256 } = operation;
  if (!deps.artifacts)
    throw refused(
      `operation ${operation.key} of API ${operation.apiId} cannot run on this agent: it has no artifact client`,
    );
  if (!manifestSha256 || !bundleSha256)
    throw refused(`operation ${operation.key} came without its artifacts' hashes (the gateway names them)`);
  const [manifestBytes, bundleBytes] = await Promise.all([
    deps.artifacts.fetch(manifestSha256, 'manifest'),
    deps.artifacts.fetch(bundleSha256, `bundle:${operationBundleName(operation.key)}`),
  ]);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  if (sha(manifestBytes) !== manifestSha256 || sha(bundleBytes) !== bundleSha256)
    throw refused(`the artifacts of ${operation.apiId} v${operation.version} do not match their hashes`);
  let manifest: OperationManifest;
  try {
    manifest = OperationManifest.parse(JSON.parse(manifestBytes.toString('utf8')));
  } catch {
    throw refused(`the manifest of ${operation.apiId} v${operation.version} is not one this agent reads`);
  }
  return { manifest, bundle: bundleBytes.toString('utf8') };
}

let sharedSandbox: Sandbox | undefined;

/**
 * A site step that names an API operation: each request runs through the operation's bundle in the
 * sandbox, against the policy's API only (its host and port; no redirects, so the policy's paths
 * hold), with the vault's credential attached by the host for the operation's security scheme.
 */
async function operationSend(
  deps: SiteHttpDeps,
  operation: SiteApiOperationT,
  baseUrl: string,
  credentialHeaders: Record<string, string>,
  api: { timeoutMs: number; maxResponseBytes: number },
  onCall?: (facts: OperationCallFacts) => void,
): Promise<HttpSend> {
  const { manifest, bundle } = await operationArtifacts(deps, operation);
  const base = new URL(baseUrl);
  const port = base.port ? Number(base.port) : base.protocol === 'https:' ? 443 : 80;
  const hasCredential = Object.keys(credentialHeaders).length > 0;
  try {
    return operationTransport(
      {
        manifest,
        operationKey: operation.key,
        bundle,
        serverUrl: baseUrl,
        stepId: `${operation.apiId}.${operation.key}`,
        ...(onCall ? { onCall } : {}),
      },
      {
        sandbox: deps.sandbox ?? (sharedSandbox ??= createSandbox()),
        egress: {
          side: 'site',
          allow: [{ host: base.hostname.replace(/^\[|\]$/g, ''), ports: [port] }],
          timeoutMs: api.timeoutMs,
          maxResponseBytes: api.maxResponseBytes,
          maxRedirects: 0,
        },
        // The site's one credential for this API (the policy's vault secret), whatever the scheme's name.
        ...(hasCredential ? { credentials: { credentialsFor: async () => ({ headers: credentialHeaders }) } } : {}),
      },
    );
  } catch (err) {
    throw toOperationError(err);
  }
}

/**
 * A site step's body with the calls of its API operation (when it names one) logged, the log handed
 * to the agent whatever the outcome: a failed step's calls are audited too.
 */
async function withCallLog<T>(
  operation: SiteApiOperationT | undefined,
  method: string,
  ctx: OperationContext,
  body: (onCall?: (facts: OperationCallFacts) => void) => Promise<T>,
): Promise<T> {
  const log = operation ? createApiCallLog(operation, method, ctx.attempt) : undefined;
  try {
    return await body(log?.onCall);
  } finally {
    if (log) ctx.reportApiCalls?.(log.report());
  }
}

/** The write loop's request from a task's fields (http.write and http.write-table), its URL resolved by siteApi. */
const writeRequest = (
  input: Pick<HttpWriteRequest, 'method' | 'batchSize' | 'body' | 'idempotencyKey'>,
  url: URL,
): HttpWriteRequest => ({
  method: input.method,
  url,
  batchSize: input.batchSize,
  body: input.body,
  idempotencyKey: input.idempotencyKey,
});

/** `http.read`: pages of a site API into the buffer object the gateway granted. */
export function createSiteHttpRead(deps: SiteHttpDeps, buffer: BufferClient): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(SiteHttpReadInput, raw, 'http.read');
    const grant = grantOf(input, 'write', 'http.read');
    return withCallLog(input.operation, input.method, ctx, async (onCall) => {
      const { url, send, headers } = await siteApi(deps, input.api, input.method, input.path, input.operation, onCall);
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
    });
  };
}

/** `http.write`: a buffer object to a site API, per record or batch. */
export function createSiteHttpWrite(deps: SiteHttpDeps, buffer: BufferClient): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(SiteHttpWriteInput, raw, 'http.write');
    const grant = grantOf(input, 'read', 'http.write');
    return withCallLog(input.operation, input.method, ctx, async (onCall) => {
      const { url, send, headers } = await siteApi(deps, input.api, input.method, input.path, input.operation, onCall);
      try {
        const result = await writeHttp(
          writeRequest(input, url),
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
    });
  };
}

/** What `http.write-table` reports: where the sending stands (a retry resumes there) and, while reading, rows read. */
interface TableWriteProgress extends Partial<HttpWritePosition> {
  runKey: string;
  rowsRead?: number;
}

/**
 * `http.write-table`: a table of a site database to a site API, in one task (pattern 3.1.2). The
 * read is data.extract's (extractTable: the policy's drops and masks on the final read plan, keyset
 * order) and the sending http.write's (writeHttp: the policy's API, the vault's credential, 429/5xx
 * retries); between them the chunks are spooled to a private temporary folder on the site, so
 * memory stays bounded and no row leaves the site before the API gets it. A retry reads again (the
 * same keyset order) and sends only the records after those the API already accepted.
 */
export function createSiteTableWrite(data: DataDeps, http: SiteHttpDeps): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(SiteTableWriteInput, raw, 'http.write-table');
    const { source } = input;
    // A retry of another table, API or cursor position must not resume from this one's progress.
    const runKey = JSON.stringify([source, input.api, input.method, input.path, input.batchSize]);
    const resume = resumeState<TableWriteProgress>(
      ctx.resumeFrom,
      (r) => r.runKey === runKey && typeof r.recordsDone === 'number',
    );
    const sent = resume
      ? { recordsDone: resume.recordsDone, requests: resume.requests, retried: resume.retried }
      : { recordsDone: 0, requests: 0, retried: 0 };
    return withCallLog(input.operation, input.method, ctx, async (onCall) => {
      const { url, send, headers } = await siteApi(http, input.api, input.method, input.path, input.operation, onCall);
      const policy = policyOf(data);
      const conn = await openConfigured(data, source.database);
      let spool: string | undefined;
      const chunkFile = (index: number) => join(spool!, `${index}.chunk`);
      try {
        spool = await mkdtemp(join(tmpdir(), 'vsc-table-to-api-'));
        let manifest: { schema: unknown; chunkCount: number; rowCount: number } | undefined;
        const extracted = await extractTable(
          conn,
          {
            database: source.database,
            table: source.table,
            columns: source.columns,
            keyColumns: source.keyColumns,
            incremental: source.incremental,
            chunkRows: input.chunkRows,
            policy,
            signal: ctx.signal,
          },
          {
            put: (index, bytes) => writeFile(chunkFile(index), bytes, { mode: 0o600 }),
            commit: async (m) => void (manifest = { schema: m.schema, chunkCount: m.chunkCount, rowCount: m.rowCount }),
          },
          // Heartbeats while reading keep what was sent, so a retry that fails again still resumes there.
          (position) => ctx.progress({ runKey, ...sent, rowsRead: position.rowsDone } satisfies TableWriteProgress),
        );
        const result = await writeHttp(
          writeRequest(input, url),
          {
            send,
            retry: http.retry ?? DEFAULT_RETRY,
            headers,
            signal: ctx.signal,
            resume: resume ? sent : undefined,
            source: {
              objectId: 'site-table',
              manifest: async () => manifest!,
              chunk: (index) => readFile(chunkFile(index)),
            },
          },
          (position) => ctx.progress({ runKey, ...position } satisfies TableWriteProgress),
        );
        return {
          ...result,
          rowCount: extracted.rowCount,
          ...(extracted.cursor ? { cursor: extracted.cursor } : {}),
        } satisfies SiteTableWriteOutputT;
      } catch (err) {
        throw toOperationError(err);
      } finally {
        await Promise.all([
          conn.close().catch(() => undefined),
          spool ? rm(spool, { recursive: true, force: true }) : undefined,
        ]);
      }
    });
  };
}
