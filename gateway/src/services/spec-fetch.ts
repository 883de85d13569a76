import { guardedTransport } from '@vansales/dataflow/egress';
import { GatewayError, GatewayErrorCode } from '../errors';

/**
 * Fetches an API's specification from an internet URL a tenant gives, as the cloud does: through the
 * egress guard (no IP literals, no private, loopback or link-local address, the name resolved once and
 * pinned, same-host redirects only, a size cap), so a registration cannot make the gateway read its
 * own network. A URL on a site's network is the agent's to fetch, never the gateway's.
 */
export interface SpecFetchSettings {
  /** Tests and development only: the stand-in API listens on loopback (VSC_SPEC_FETCH_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  maxBytes: number;
  timeoutMs: number;
}

export type SpecFetch = (url: string) => Promise<{ text: string; contentType?: string; sourceUrl: string }>;

export function createSpecFetch(settings: SpecFetchSettings): SpecFetch {
  return async (raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new GatewayError(GatewayErrorCode.badRequest, 'spec.url is not an absolute URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new GatewayError(GatewayErrorCode.badRequest, 'spec.url must be an http(s) URL');
    if (url.username || url.password)
      throw new GatewayError(
        GatewayErrorCode.badRequest,
        'spec.url must not carry credentials: give a public URL of the document, or upload its text',
      );
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const send = guardedTransport({
      side: 'cloud',
      allow: [{ host: url.hostname, ports: [port] }],
      allowPrivate: settings.allowPrivate,
      timeoutMs: settings.timeoutMs,
      maxResponseBytes: settings.maxBytes,
      maxRedirects: 3,
    });
    let response;
    try {
      response = await send({
        method: 'GET',
        url,
        // One document, one connection: nothing reuses it, and a host that keeps an idle connection open
        // must not hold one of the gateway's sockets per registration.
        headers: { accept: 'application/json, application/yaml;q=0.9, */*;q=0.5', connection: 'close' },
      });
    } catch (err) {
      // The guard's message says which rule refused (a private address, a redirect elsewhere, the size cap).
      throw new GatewayError(
        GatewayErrorCode.badRequest,
        `could not fetch the specification: ${(err as Error).message}`,
      );
    }
    if (response.status !== 200)
      throw new GatewayError(
        GatewayErrorCode.badRequest,
        `could not fetch the specification: ${url.host} answered HTTP ${response.status}`,
      );
    const type = response.headers['content-type'];
    return {
      text: response.body.toString('utf8'),
      contentType: Array.isArray(type) ? type[0] : type,
      sourceUrl: response.url.toString(),
    };
  };
}
