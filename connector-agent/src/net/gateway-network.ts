import { readFileSync } from 'node:fs';
import type { Agent as HttpAgent, ClientRequest } from 'node:http';
import { checkServerIdentity, getCACertificates, type PeerCertificate } from 'node:tls';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { parseNoProxy } from './no-proxy';

/** The agent's `proxy` setting (agent.json), after the vault resolved its password. */
export interface ProxySetting {
  url: string;
  username?: string;
  password?: string;
  noProxy?: string | string[];
}

/**
 * How the agent reaches its gateway (the WebSocket, the key-pair challenge, the buffer, SDK
 * artifacts): through a CONNECT proxy or direct, trusting the system's roots plus the configured CA
 * file. Every one of those clients takes its `agent` and `ca` from here, so none can go around it.
 */
export interface GatewayNetwork {
  /** The http.Agent for requests to the gateway's origin; undefined = direct. */
  agent?: HttpAgent;
  /** CA certificates for the gateway's TLS (undefined: Node's defaults). */
  ca?: string[];
  /** The proxy in use, with no credential (`http://proxy.example:3128`), for log lines and errors. */
  proxy?: string;
  /** Set when the proxy answered the CONNECT of this request with something other than 200. */
  proxyRefusal(req: ClientRequest): ProxyRefusedError | undefined;
}

/**
 * The proxy refused to open the tunnel (407, or 401 as Tinyproxy answers a CONNECT: its credentials;
 * 403: its rules). The message holds no credential.
 */
export class ProxyRefusedError extends Error {
  override name = 'ProxyRefusedError';
  constructor(
    readonly status: number,
    proxy: string,
    target: string,
  ) {
    super(
      status === 407 || status === 401
        ? `the proxy ${proxy} refused the agent's proxy credentials (HTTP ${status}): check proxy.username and proxy.password in agent.json, or the user and password in HTTPS_PROXY`
        : `the proxy ${proxy} refused to open a tunnel to ${target} (HTTP ${status}): ask its administrators to allow CONNECT to that host and port`,
    );
  }
}

export class ProxyConfigError extends Error {
  override name = 'ProxyConfigError';
}

/**
 * The proxy for a gateway URL: agent.json's `proxy` when set (it wins over the environment, so an
 * installed service does not depend on the variables of whoever started it), else HTTPS_PROXY /
 * https_proxy with NO_PROXY / no_proxy (lower case first, as curl reads them). Plain ws:// (allowed only
 * to a gateway on this machine) is never proxied.
 */
export function proxyFor(
  gatewayUrl: string,
  setting: ProxySetting | undefined,
  env: NodeJS.ProcessEnv,
): { url: URL; username?: string; password?: string } | undefined {
  const target = new URL(gatewayUrl);
  if (target.protocol !== 'wss:') return undefined;
  const url = setting?.url ?? env.https_proxy ?? env.HTTPS_PROXY;
  if (!url) return undefined;
  const noProxy = parseNoProxy(setting ? setting.noProxy : (env.no_proxy ?? env.NO_PROXY));
  if (noProxy.matches(target.hostname, Number(target.port || 443))) return undefined;
  let parsed: URL;
  try {
    // "proxy.example:3128" without a scheme is read as http://, as curl does.
    parsed = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`);
  } catch {
    throw new ProxyConfigError(
      `${setting ? 'proxy.url in agent.json' : 'HTTPS_PROXY'} is not a URL; write it as http://host:port`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new ProxyConfigError(
      `${setting ? 'proxy.url' : 'HTTPS_PROXY'} must be an http:// or https:// proxy (${parsed.protocol} is not supported)`,
    );
  const username = setting?.username ?? (parsed.username ? decodeURIComponent(parsed.username) : undefined);
  const password = setting?.password ?? (parsed.password ? decodeURIComponent(parsed.password) : undefined);
  // The credentials travel in Proxy-Authorization only: the URL kept here (and printed) has none.
  parsed.username = '';
  parsed.password = '';
  return {
    url: parsed,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

/** A proxy URL as it may be printed: scheme, host and port only. */
export function redactedProxy(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/** The gateway network of an agent config (see GatewayNetwork); env is the process environment. */
export function createGatewayNetwork(
  config: { gatewayUrl: string; proxy?: ProxySetting; tlsCaFile?: string },
  env: NodeJS.ProcessEnv = process.env,
): GatewayNetwork {
  const ca = config.tlsCaFile ? trustedCas(config.tlsCaFile) : undefined;
  const proxy = proxyFor(config.gatewayUrl, config.proxy, env);
  if (!proxy) return { ...(ca ? { ca } : {}), proxyRefusal: () => undefined };
  const shown = redactedProxy(proxy.url);
  const target = new URL(config.gatewayUrl).host;
  const headers =
    proxy.username !== undefined || proxy.password !== undefined
      ? {
          'Proxy-Authorization': `Basic ${Buffer.from(`${proxy.username ?? ''}:${proxy.password ?? ''}`).toString('base64')}`,
        }
      : {};
  // An https:// proxy's own certificate is checked against the same roots and CA file.
  const agent = new GatewayProxyAgent(proxy.url, { headers, keepAlive: true, ...(ca ? { ca } : {}) });
  const refusals = new WeakMap<ClientRequest, ProxyRefusedError>();
  agent.on('proxyConnect', (connect: { statusCode: number }, req: ClientRequest) => {
    if (connect.statusCode !== 200) refusals.set(req, new ProxyRefusedError(connect.statusCode, shown, target));
  });
  return { agent, ...(ca ? { ca } : {}), proxy: shown, proxyRefusal: (req) => refusals.get(req) };
}

/**
 * https-proxy-agent leaves `host` out of the options of the TLS it starts inside the tunnel, so for a
 * gateway named by an IP address (no SNI) Node checks the certificate against "localhost". The check is
 * made here against the host the request names, as a direct connection would.
 */
class GatewayProxyAgent extends HttpsProxyAgent<string> {
  override connect(req: ClientRequest, opts: Parameters<HttpsProxyAgent<string>['connect']>[1]) {
    const host = opts.host ?? '';
    // The TLS options pass through to tls.connect inside the tunnel; the type knows only the agent's own.
    return super.connect(req, {
      ...opts,
      checkServerIdentity: (_name: string, cert: PeerCertificate) => checkServerIdentity(host, cert),
    } as typeof opts);
  }
}

/**
 * The CA file of agent.json added to the roots Node trusts by default (its bundled roots plus
 * NODE_EXTRA_CA_CERTS): a `ca` option alone would replace them, and a gateway behind a public
 * certificate would then fail as soon as a TLS-inspecting proxy's CA was configured.
 */
function trustedCas(file: string): string[] {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ProxyConfigError(
      `cannot read tlsCaFile ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----'))
    throw new ProxyConfigError(`tlsCaFile ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return [...getCACertificates('default'), pem];
}
