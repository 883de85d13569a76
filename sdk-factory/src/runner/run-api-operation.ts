import type { OperationManifest } from '../manifest';
import { BUNDLE_GLOBAL } from '../codegen/bundle-global';
import { stringLiteral } from '../codegen/emit-text';
import { createHostHttp, type CredentialProvider, type HostHttp, type HostHttpOptions } from '../sandbox/egress';
import { SandboxError, SandboxErrorCode } from '../sandbox/errors';
import type { Sandbox } from '../sandbox/sandbox';

/**
 * One API operation run the way a definition step runs it, on a site's agent or a cloud worker alike:
 * the generated operation bundle (codegen) inside the QuickJS sandbox, its only way out the host's
 * guarded HTTP (allowlist, pinned DNS, size caps) with credentials attached by the host for the
 * operation's security scheme. The bundle sees neither the credentials nor the network.
 */
export interface ApiOperationCall {
  manifest: OperationManifest;
  /** The manifest's stable key of the operation to run. */
  operationKey: string;
  /** That operation's bundle from `bundleOperations` (verified by the registry before it gets here). */
  bundle: string;
  /** The SDK's OperationInput: `{ path?, query?, headers?, cookies?, body? }`. */
  input: unknown;
  /** Headers sent besides the operation's own (Accept, Idempotency-Key); the SDK checks them as it does its own. */
  headers?: Record<string, string>;
  /** Absolute base URL of the API (where it is reachable from here); default: the operation's or the document's first server. */
  serverUrl?: string;
}

export interface ApiOperationHost {
  sandbox: Sandbox;
  /** The egress rules of the side this runs on (cloud or site), without credentials. */
  egress: Omit<HostHttpOptions, 'credentials'>;
  /** Where the credentials for the operation's security schemes come from (the tenant's store, the agent's vault). */
  credentials?: CredentialProvider;
}

export interface ApiOperationResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

function baseUrlOf(call: ApiOperationCall, servers: { url: string }[]): string {
  const url = call.serverUrl ?? servers[0]?.url;
  if (!url || !/^https?:\/\//i.test(url))
    throw new SandboxError(
      SandboxErrorCode.badInput,
      `the API declares no absolute server URL${url ? ` (it says ${JSON.stringify(url)})` : ''}: give the base URL where it is reachable`,
    );
  return url.replace(/\/+$/, '');
}

/**
 * The adapter between the two contracts: the sandbox calls `module.exports[key](input, ctx)`, the
 * bundle defines `vscOperation.call(host, input, options)`. Inside the VM the SDK makes one attempt per call:
 * the VM has no clock to back off with, so retries (429/5xx, Retry-After) are the step's retry policy's,
 * and the sandbox's deadline bounds the call. Only literals made by JSON-escaping reach this source.
 * With `exchange`, the answer is the one HTTP exchange as it came (any status, the body as text), for
 * a caller that judges statuses itself (the HTTP steps' retries and pagination); else the SDK's result.
 */
function adapted(
  bundle: string,
  key: string,
  baseUrl: string,
  exchange: boolean,
  headers?: Record<string, string>,
): string {
  return `${bundle}
;module.exports[${stringLiteral(key)}] = function (input, ctx) {
  var base = ${stringLiteral(baseUrl)};
  var exchange = ${exchange ? 'true' : 'false'};
  var last;
  var noTimers = { setTimeout: function () { return 0; }, clearTimeout: function () {} };
  var transport = function (r) {
    var url = /^https?:\\/\\//i.test(r.url) ? r.url : base + r.url;
    return ctx.http({ method: r.method, url: url, headers: r.headers, body: r.body }).then(function (res) {
      last = res;
      return res;
    });
  };
  // Parsed, not written as an object literal: a header named __proto__ stays a header.
  var options = { headers: JSON.parse(${stringLiteral(JSON.stringify(headers ?? {}))}) };
  var answer = ${BUNDLE_GLOBAL}.call({ transport: transport, timers: noTimers, retry: { maxAttempts: 1 } }, input, options);
  if (!exchange) return answer;
  return answer.then(function () { return last; }, function (e) {
    if (last !== undefined && e && e.code === 'http_status') return last;
    throw e;
  });
};`;
}

/** The raw exchange of one operation call: what the API answered, whatever the status. */
export interface ApiOperationExchange {
  status: number;
  headers: Record<string, string>;
  /** The body as text, as it came. */
  body: string;
}

function prepared(call: ApiOperationCall, host: ApiOperationHost, wrapHttp?: (http: HostHttp) => HostHttp) {
  const operation = call.manifest.operations.find((o) => o.key === call.operationKey);
  if (!operation)
    throw new SandboxError(
      SandboxErrorCode.unknownOperation,
      `the API has no operation ${JSON.stringify(call.operationKey)}`,
    );
  const baseUrl = baseUrlOf(call, operation.servers ?? call.manifest.servers);
  // The first alternative of the operation's security; the schemes come from the manifest, never from the VM.
  const schemes = Object.keys(operation.security[0] ?? {});
  if (schemes.length && !host.credentials)
    throw new SandboxError(
      SandboxErrorCode.badInput,
      `operation ${call.operationKey} needs credentials for ${schemes.join(' and ')}: configure them for this API`,
    );
  const http = createHostHttp({
    ...host.egress,
    ...(schemes.length && host.credentials
      ? { credentials: { provider: host.credentials, schemes, origin: baseUrl } }
      : {}),
  });
  return { baseUrl, http: wrapHttp ? wrapHttp(http) : http };
}

export async function runApiOperation(call: ApiOperationCall, host: ApiOperationHost): Promise<ApiOperationResult> {
  const { baseUrl, http } = prepared(call, host);
  const result = await host.sandbox.runOperation({
    bundle: adapted(call.bundle, call.operationKey, baseUrl, false, call.headers),
    operation: call.operationKey,
    input: call.input,
    http,
  });
  return result as ApiOperationResult;
}

/**
 * One operation call whose answer is the HTTP exchange itself (any status): the transport under a
 * definition's HTTP steps. `wrapHttp` lets the caller see the host side of the call (its errors, sizes).
 */
export async function exchangeApiOperation(
  call: ApiOperationCall,
  host: ApiOperationHost,
  wrapHttp?: (http: HostHttp) => HostHttp,
): Promise<ApiOperationExchange> {
  const { baseUrl, http } = prepared(call, host, wrapHttp);
  const result = (await host.sandbox.runOperation({
    bundle: adapted(call.bundle, call.operationKey, baseUrl, true, call.headers),
    operation: call.operationKey,
    input: call.input,
    http,
  })) as ApiOperationExchange | null;
  if (!result || typeof result.status !== 'number')
    throw new SandboxError(SandboxErrorCode.badResult, `operation ${call.operationKey} made no HTTP request`);
  return result;
}
