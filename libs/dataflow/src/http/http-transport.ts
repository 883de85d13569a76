import { isIP } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { DataflowError, DataflowErrorCode } from '../errors';
import type { HttpRequest, HttpResponse, HttpSend } from './http-exchange';

export interface TransportOptions {
  /** Throws HTTP_REFUSED for a URL this side may not call; run on every URL, redirects included. */
  check(url: URL): void;
  /** The one address to connect to (resolved once, checked, then pinned for the connection). */
  resolve(hostname: string): Promise<LookupAddress>;
  /** Largest answer body read (bytes); a larger one fails the request. */
  maxResponseBytes: number;
  /** Whole exchange, connect to last byte. */
  timeoutMs: number;
  maxRedirects?: number;
  /** Extra CA certificates (a site's own CA for its internal APIs). */
  ca?: Buffer;
  /**
   * Connection pool (default: node's global agent). A guarded transport passes its own, so a socket
   * pinned to one transport's checked address is never reused by another transport.
   */
  agentFor?: (url: URL) => Agent;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The CA and, for a mutualTLS credential, the client certificate of an HTTPS request. */
function tlsOptions(request: HttpRequest, options: TransportOptions) {
  const client = request.clientCertificate;
  const ca = client?.ca ?? options.ca;
  return {
    ...(ca ? { ca } : {}),
    ...(client
      ? { cert: client.cert, key: client.key, ...(client.passphrase ? { passphrase: client.passphrase } : {}) }
      : {}),
  };
}

/**
 * HTTP over node:http(s) with the address pinned: the name is resolved once by `resolve` (which
 * is where the cloud refuses private ranges) and the socket connects to that address, so a second
 * DNS answer cannot move the request elsewhere. Redirects are followed only on the same origin.
 */
export function createHttpTransport(options: TransportOptions): HttpSend {
  const maxRedirects = options.maxRedirects ?? 5;
  return async (request, signal) => {
    let current = request;
    for (let hops = 0; ; hops++) {
      options.check(current.url);
      const address = await options.resolve(current.url.hostname);
      const response = await exchange(current, address, options, signal);
      const location = response.headers.location;
      if (!REDIRECTS.has(response.status) || typeof location !== 'string') return response;
      if (hops >= maxRedirects)
        throw new DataflowError(
          DataflowErrorCode.HTTP_FAILED,
          `more than ${maxRedirects} redirects from ${request.url.origin}`,
        );
      let next: URL;
      try {
        next = new URL(location, current.url);
      } catch {
        throw new DataflowError(DataflowErrorCode.HTTP_FAILED, `a redirect from ${current.url.pathname} names no URL`);
      }
      if (next.origin !== current.url.origin)
        throw new DataflowError(
          DataflowErrorCode.HTTP_REFUSED,
          `${current.url.pathname} redirects to another host; cross-host redirects are refused`,
        );
      current =
        response.status === 303 || ((response.status === 301 || response.status === 302) && current.method !== 'GET')
          ? {
              method: 'GET',
              url: next,
              headers: withoutBody(current.headers),
              clientCertificate: current.clientCertificate,
            }
          : { ...current, url: next };
    }
  };
}

function withoutBody(headers: Record<string, string>): Record<string, string> {
  const { 'content-type': _type, 'content-length': _length, ...rest } = headers;
  return rest;
}

function exchange(
  request: HttpRequest,
  address: LookupAddress,
  options: TransportOptions,
  signal: AbortSignal | undefined,
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const url = request.url;
    const secure = url.protocol === 'https:';
    let settled = false;
    const fail = (err: DataflowError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(err);
    };
    // The path only: a site API's host stays on the site, even in an error that travels to the cloud.
    const where = url.pathname;
    const req = (secure ? httpsRequest : httpRequest)(
      {
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port || (secure ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        method: request.method,
        headers: {
          ...request.headers,
          ...(request.body ? { 'content-length': String(request.body.length) } : {}),
        },
        // The checked address, whatever a second resolution would say (no DNS rebinding).
        lookup: ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) =>
          opts?.all ? cb(null, [address]) : cb(null, address.address, address.family)) as never,
        // SNI names a host, never an address (RFC 6066; Node 26 refuses one): for an address the
        // certificate is checked against the host the request names, which is that address.
        ...(secure ? { ...sniFor(url.hostname), ...tlsOptions(request, options) } : {}),
        signal,
        ...(options.agentFor ? { agent: options.agentFor(url) } : {}),
      },
      (res: IncomingMessage) => {
        const parts: Buffer[] = [];
        let size = 0;
        // A declared length past the cap fails before the first byte is read.
        if (Number(res.headers['content-length'] ?? 0) > options.maxResponseBytes) {
          fail(
            new DataflowError(
              DataflowErrorCode.HTTP_FAILED,
              `${where} answered more than ${options.maxResponseBytes} bytes; page the request or raise the limit`,
            ),
          );
          return;
        }
        res.on('data', (d: Buffer) => {
          size += d.length;
          if (size > options.maxResponseBytes) {
            fail(
              new DataflowError(
                DataflowErrorCode.HTTP_FAILED,
                `${where} answered more than ${options.maxResponseBytes} bytes; page the request or raise the limit`,
              ),
            );
            return;
          }
          parts.push(d);
        });
        res.on('error', (err) => fail(unavailable(where, err, signal)));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), url });
        });
      },
    );
    const timer = setTimeout(
      () =>
        fail(
          new DataflowError(
            DataflowErrorCode.HTTP_UNAVAILABLE,
            `${where} did not answer within ${options.timeoutMs} ms`,
          ),
        ),
      options.timeoutMs,
    );
    req.on('error', (err) => fail(unavailable(where, err, signal)));
    req.end(request.body);
  });
}

function unavailable(where: string, err: Error, signal: AbortSignal | undefined): DataflowError {
  if (signal?.aborted) return new DataflowError(DataflowErrorCode.CANCELLED, 'cancelled');
  // The code only: a TLS or socket message is enough to act on and carries nothing of the request.
  const code = (err as NodeJS.ErrnoException).code ?? err.name;
  return new DataflowError(DataflowErrorCode.HTTP_UNAVAILABLE, `${where} could not be reached (${code})`);
}

/** The TLS server name of a URL's host: SNI names a host, never an address (RFC 6066). */
function sniFor(hostname: string): { servername?: string } {
  const host = hostname.replace(/^\[|\]$/g, '');
  return isIP(host) ? {} : { servername: host };
}
