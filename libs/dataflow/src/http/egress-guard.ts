import { lookup } from 'node:dns/promises';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { BlockList, isIP } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { DataflowError, DataflowErrorCode } from '../errors';
import { createHttpTransport } from './http-transport';
import type { HttpSend } from './http-exchange';

export type { ClientCertificate, HttpRequest, HttpResponse, HttpSend } from './http-exchange';

/**
 * Where the platform may send HTTP on a tenant's behalf. One guard for every caller: the cloud's
 * HTTP steps, and the SDK factory's sandboxed operations (cloud side and site side). A definition or
 * an operation bundle is written by a tenant, so without it the cloud would call its own network for
 * them (databases, Temporal, the instance metadata service and its credentials).
 */
export interface EgressSettings {
  /** Tests and dev: loopback and private ranges allowed (link-local and metadata addresses never). */
  allowPrivate: boolean;
  timeoutMs: number;
  maxResponseBytes: number;
}

/** Every address a name has. Injected in tests (a hosts map: no public DNS here); the system resolver otherwise. */
export type EgressResolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: EgressResolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

const list = (entries: [string, number, 'ipv4' | 'ipv6'][]) => {
  const b = new BlockList();
  for (const [net, prefix, type] of entries) b.addSubnet(net, prefix, type);
  return b;
};

/** Never reachable, whatever the setting: link-local (cloud metadata lives there), multicast, reserved. */
const ALWAYS_BLOCKED = list([
  ['0.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['100.100.100.200', 32, 'ipv4'], // Alibaba's metadata service, inside 100.64/10
  ['192.0.0.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['fd00:ec2::254', 128, 'ipv6'], // AWS's IPv6 metadata service, inside fc00::/7
  ['ff00::', 8, 'ipv6'],
]);

/** Private, loopback and CGNAT ranges: refused unless allowPrivate (tests, dev, a site's own APIs). */
const PRIVATE = list([
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
]);

const refused = (message: string) => new DataflowError(DataflowErrorCode.HTTP_REFUSED, message);

/** Why the cloud may not connect to this address, or undefined when it may. */
export function addressProblem(address: string, allowPrivate: boolean): string | undefined {
  let ip = address.replace(/^\[|\]$/g, '');
  let family = isIP(ip);
  if (family === 0) return 'is not an IP address';
  // An IPv4-mapped IPv6 address is the IPv4 address (BlockList also matches the hex form, ::ffff:7f00:1).
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) {
    ip = mapped[1]!;
    family = 4;
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (ALWAYS_BLOCKED.check(ip, type)) return 'is a link-local, metadata or reserved address';
  if (!allowPrivate && PRIVATE.check(ip, type))
    return 'is a private or loopback address (the cloud only calls public APIs; VSC_CLOUD_HTTP_ALLOW_PRIVATE is for tests and dev)';
  return undefined;
}

export interface CloudEgressOptions {
  /** Default systemResolver. */
  resolver?: EgressResolver;
  /**
   * false: a URL whose host is an IP literal is refused before any connection (the sandbox's cloud
   * side: an allowlist names hosts, and a literal is how SSRF payloads skip the name check). The
   * cloud's HTTP steps keep accepting public literals (default true).
   */
  allowIpLiterals?: boolean;
}

/** The transport's `check` and `resolve` for the cloud: scheme first, then every resolved address. */
export function cloudEgress(
  settings: Pick<EgressSettings, 'allowPrivate'> & Partial<EgressSettings>,
  options: CloudEgressOptions = {},
) {
  const resolver = options.resolver ?? systemResolver;
  return {
    check(url: URL): void {
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw refused(`only http and https are allowed, not ${url.protocol}`);
      if (options.allowIpLiterals === false && isIP(url.hostname.replace(/^\[|\]$/g, '')))
        throw refused(`${url.hostname} is an IP address; cloud calls name a host from the allowlist`);
    },
    async resolve(hostname: string): Promise<LookupAddress> {
      const host = hostname.replace(/^\[|\]$/g, '');
      let addresses: LookupAddress[];
      if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
      else {
        try {
          addresses = await resolver(host);
        } catch (err) {
          throw new DataflowError(
            DataflowErrorCode.HTTP_UNAVAILABLE,
            `${host} could not be resolved (${(err as NodeJS.ErrnoException).code ?? 'DNS error'})`,
          );
        }
      }
      // Every answer is checked, not just the one used: a name that also points inside is refused. The
      // address is not named: which address an internal name has is the network's, not the caller's to learn.
      for (const a of addresses) {
        const problem = addressProblem(a.address, settings.allowPrivate);
        if (problem) throw refused(`${host} resolves to an address that ${problem}`);
      }
      const first = addresses[0];
      if (!first) throw new DataflowError(DataflowErrorCode.HTTP_UNAVAILABLE, `${host} has no address`);
      return first;
    },
  };
}

/** One host (exact, or `*.example.com` for its subdomains) and the ports allowed on it. */
export interface EgressRule {
  host: string;
  /** Default: 443 for https, 80 for http. */
  ports?: readonly number[];
}

/** Throws HTTP_REFUSED unless the URL's host and port are on the allowlist. */
export function checkAllowlist(rules: readonly EgressRule[], url: URL): void {
  const host = url.hostname
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.$/, '');
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  for (const rule of rules) {
    const want = rule.host.toLowerCase().replace(/\.$/, '');
    const hostMatches = want.startsWith('*.')
      ? host.endsWith(want.slice(1)) && host.length > want.length - 1
      : host === want;
    if (!hostMatches) continue;
    const ports = rule.ports ?? [url.protocol === 'https:' ? 443 : 80];
    if (ports.includes(port)) return;
    throw refused(`port ${port} of ${host} is not on the egress allowlist (allowed: ${ports.join(', ')})`);
  }
  throw refused(`${host} is not on the egress allowlist`);
}

export interface GuardedTransportOptions {
  /**
   * cloud: a cloud worker calling an internet API: no IP literals, no private, loopback, CGNAT,
   * link-local or multicast address (v4, v6, IPv4-mapped v6). site: the agent calling the user's
   * own API: private addresses allowed (the allowlist names them), link-local and metadata never.
   */
  side: 'cloud' | 'site';
  allow: readonly EgressRule[];
  /** Cloud side in tests and dev only (VSC_CLOUD_HTTP_ALLOW_PRIVATE). */
  allowPrivate?: boolean;
  resolver?: EgressResolver;
  timeoutMs: number;
  maxResponseBytes: number;
  /** Same-host redirects followed (default 5; 0 follows none). Redirects to another host are always refused. */
  maxRedirects?: number;
  ca?: Buffer;
  /**
   * How long a pooled connection may sit idle before it is closed (default 5,000 ms). Nothing closes a
   * transport when its run ends, so without this a host that never closes idle connections (the host
   * is a tenant's choice) would hold the caller's sockets for as long as it likes.
   */
  idleSocketMs?: number;
}

/**
 * A transport that checks the allowlist and the address rules on every URL (redirects included),
 * and resolves each host ONCE for its lifetime: every later request (a second call, a same-host
 * redirect) connects to that same pinned address, so a name that answers a public address first and
 * a private one next (DNS rebinding) cannot move a call inside. Make one per operation run.
 */
export function guardedTransport(options: GuardedTransportOptions): HttpSend {
  const cloud = options.side === 'cloud';
  const egress = cloudEgress(
    { allowPrivate: !cloud || options.allowPrivate === true },
    { resolver: options.resolver, allowIpLiterals: !cloud },
  );
  const pinned = new Map<string, Promise<LookupAddress>>();
  // Its own keep-alive pools: a socket is reused only by requests this transport pinned and checked
  // (node's global agent would hand a socket of another transport, or a stale one, to this one).
  // `timeout` closes a socket that idles in the pool (node destroys only free sockets on it).
  const pool = { keepAlive: true, timeout: options.idleSocketMs ?? 5_000 };
  const agents = { http: new HttpAgent(pool), https: new HttpsAgent(pool) };
  return createHttpTransport({
    check: (url) => {
      egress.check(url);
      if (url.username || url.password)
        throw refused('a URL with user info is refused; credentials are attached by the host');
      checkAllowlist(options.allow, url);
    },
    resolve: (hostname) => {
      const key = hostname.toLowerCase();
      let address = pinned.get(key);
      if (!address) {
        address = egress.resolve(hostname);
        pinned.set(key, address);
      }
      return address;
    },
    timeoutMs: options.timeoutMs,
    maxResponseBytes: options.maxResponseBytes,
    maxRedirects: options.maxRedirects,
    ca: options.ca,
    agentFor: (url) => (url.protocol === 'https:' ? agents.https : agents.http),
  });
}
