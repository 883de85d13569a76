import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { DataflowError, DataflowErrorCode } from '@vansales/dataflow';

/**
 * Where the cloud worker may send an HTTP step: http(s) to public addresses only. A definition is
 * written by a tenant, so without this guard the cloud would call its own network for them
 * (databases, Temporal, the instance metadata service and its credentials).
 */
export interface EgressSettings {
  /** Tests and dev: loopback and private ranges allowed (link-local and metadata addresses never). */
  allowPrivate: boolean;
  timeoutMs: number;
  maxResponseBytes: number;
}

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

/** Private and loopback ranges: refused unless VSC_CLOUD_HTTP_ALLOW_PRIVATE. */
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
  // An IPv4-mapped IPv6 address is the IPv4 address.
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

/** The transport's `check` and `resolve` for the cloud: scheme first, then every resolved address. */
export function cloudEgress(settings: EgressSettings) {
  return {
    check(url: URL): void {
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw refused(`only http and https are allowed, not ${url.protocol}`);
    },
    async resolve(hostname: string): Promise<LookupAddress> {
      const host = hostname.replace(/^\[|\]$/g, '');
      let addresses: LookupAddress[];
      if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
      else {
        try {
          addresses = await lookup(host, { all: true, verbatim: true });
        } catch (err) {
          throw new DataflowError(
            DataflowErrorCode.HTTP_UNAVAILABLE,
            `${host} could not be resolved (${(err as NodeJS.ErrnoException).code ?? 'DNS error'})`,
          );
        }
      }
      // Every answer is checked, not just the one used: a name that also points inside is refused.
      for (const a of addresses) {
        const problem = addressProblem(a.address, settings.allowPrivate);
        if (problem) throw refused(`${host} resolves to ${a.address}, which ${problem}`);
      }
      const first = addresses[0];
      if (!first) throw new DataflowError(DataflowErrorCode.HTTP_UNAVAILABLE, `${host} has no address`);
      return first;
    },
  };
}
