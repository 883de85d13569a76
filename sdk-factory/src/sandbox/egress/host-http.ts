import {
  checkAllowlist,
  guardedTransport,
  type ClientCertificate,
  type GuardedTransportOptions,
  type HttpRequest,
} from '@vansales/dataflow/egress';
import { z } from 'zod';

/** A request as sandboxed code writes it (`ctx.http({...})`), validated at the boundary. */
export const SandboxHttpRequest = z.object({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  /** Absolute http(s) URL; the host checks it against the egress allowlist. */
  url: z.string().min(1).max(8192),
  headers: z.record(z.string().max(256), z.string().max(16_384)).default({}),
  /** Request body as text (JSON is stringified by the SDK in the sandbox). */
  body: z.string().optional(),
});
export type SandboxHttpRequest = z.infer<typeof SandboxHttpRequest>;

/** What sandboxed code gets back: status, headers (lower-case names, joined) and the body as UTF-8 text. */
export interface SandboxHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The host side of `ctx.http`: the sandbox calls it with a validated request and the call's abort signal. */
export type HostHttp = (request: SandboxHttpRequest, signal: AbortSignal) => Promise<SandboxHttpResponse>;

/** The part of a request a credential provider sees (never the body or the sandbox's headers). */
export interface CredentialRequest {
  method: string;
  url: URL;
}

/** What the host adds to a request for one security scheme (an API key may go in a header, query or cookie). */
export interface CredentialAttachment {
  headers?: Record<string, string>;
  query?: Record<string, string>;
  /** A client certificate the HTTPS transport presents (a `mutualTLS` scheme). */
  clientCertificate?: ClientCertificate;
}

/**
 * Where credentials come from (the auth part of the factory implements it: the cloud's store, the
 * agent's vault, OAuth tokens refreshed before expiry). Keyed by the manifest's security scheme
 * name; undefined when the tenant has none for that scheme. The sandbox never sees what it returns.
 */
export interface CredentialProvider {
  credentialsFor(schemeName: string, request: CredentialRequest): Promise<CredentialAttachment | undefined>;
}

/**
 * The guard's own options (side: cloud for an internet API from a cloud worker, site for the user's
 * own API from the agent; the allowlist; resolver, timeout, caps, redirects), plus the request cap
 * and the credentials of the operation's security requirement (one alternative, all attached).
 */
export interface HostHttpOptions extends GuardedTransportOptions {
  maxRequestBytes?: number;
  /**
   * `origin` is the API's own origin (scheme, host, port of its base URL): credentials go to it only.
   * The allowlist may name more (a `*.example` rule, a CDN that serves the next page, plain http on
   * the same host), and a token sent there would leave the API it was issued for.
   */
  credentials?: { provider: CredentialProvider; schemes: readonly string[]; origin: string };
}

function originOf(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new Error(`the credentials' origin ${JSON.stringify(base.slice(0, 200))} is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`the credentials' origin must be an http(s) URL, not ${url.protocol}`);
  return url.origin;
}

/** Headers the sandbox may not set: the transport owns framing, the host owns identity. */
const HOST_OWNED = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'te', 'trailer']);

/**
 * The host HTTP function of one operation call: the egress guard (allowlist checked on every URL,
 * redirects included; cloud side: no IP literals or private ranges; each host resolved once and
 * pinned), the size caps and timeout, and the credentials attached here by scheme name. Make one
 * per call: its DNS pins live as long as it does.
 */
export function createHostHttp(options: HostHttpOptions): HostHttp {
  const { credentials: _credentials, maxRequestBytes: _max, ...guard } = options;
  const send = guardedTransport(guard);
  const maxRequestBytes = options.maxRequestBytes ?? 8 * 1024 * 1024;
  const credentialOrigin = options.credentials && originOf(options.credentials.origin);
  return async (request, signal) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      throw new Error(`${JSON.stringify(request.url.slice(0, 200))} is not an absolute URL`);
    }
    // The allowlist before the credential store is asked: a refused host never causes a lookup.
    checkAllowlist(options.allow, url);
    const headers: Record<string, string> = {};
    let clientCertificate: ClientCertificate | undefined;
    for (const [name, value] of Object.entries(request.headers)) {
      const lower = name.toLowerCase();
      if (!HOST_OWNED.has(lower)) headers[lower] = value;
    }
    // Another origin (a pagination link, an http: URL of an https: API) gets the request without them.
    const schemes = options.credentials && url.origin === credentialOrigin ? options.credentials.schemes : [];
    for (const scheme of schemes) {
      const attached = await options.credentials!.provider.credentialsFor(scheme, { method: request.method, url });
      if (!attached) throw new Error(`no credential is configured for the security scheme ${JSON.stringify(scheme)}`);
      for (const [name, value] of Object.entries(attached.headers ?? {})) headers[name.toLowerCase()] = value;
      for (const [name, value] of Object.entries(attached.query ?? {})) url.searchParams.set(name, value);
      if (attached.clientCertificate) clientCertificate = attached.clientCertificate;
    }
    const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
    if (body && body.length > maxRequestBytes)
      throw new Error(`the request body has ${body.length} bytes, more than the limit of ${maxRequestBytes}`);
    const outgoing: HttpRequest = { method: request.method, url, headers, body, clientCertificate };
    const response = await send(outgoing, signal);
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers))
      if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
    return { status: response.status, headers: flat, body: response.body.toString('utf8') };
  };
}
