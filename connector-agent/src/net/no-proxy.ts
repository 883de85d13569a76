import { BlockList, isIP } from 'node:net';

/**
 * One NO_PROXY list, read the way curl, Go and the other common tools read it: entries split on
 * commas or white space; `*` alone means every host; `host` or `.host` or `*.host` matches that host and
 * every name under it; `host:port` only that port; an IP address matches itself, `addr/bits` a
 * CIDR range (IPv4 or IPv6, with or without brackets). Names are compared without case.
 */
export interface NoProxy {
  /** True when a connection to `host:port` goes direct, not through the proxy. */
  matches(host: string, port: number): boolean;
  /** The entries as given (for the agent's start line). */
  readonly entries: readonly string[];
}

type Entry = { kind: 'name'; name: string; port?: number } | { kind: 'ip'; port?: number; list: BlockList };

export function parseNoProxy(value: string | readonly string[] | undefined): NoProxy {
  const raw = (typeof value === 'string' ? value.split(/[\s,]+/) : (value ?? [])).map((e) => e.trim()).filter(Boolean);
  const everything = raw.includes('*');
  const entries = raw.flatMap((e): Entry[] => {
    const parsed = entryOf(e);
    return parsed ? [parsed] : [];
  });
  return {
    entries: raw,
    matches(host, port) {
      if (everything) return true;
      const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
      const family = isIP(bare);
      return entries.some((entry) => {
        if (entry.port !== undefined && entry.port !== port) return false;
        if (entry.kind === 'ip') return family !== 0 && entry.list.check(bare, family === 6 ? 'ipv6' : 'ipv4');
        return bare === entry.name || bare.endsWith(`.${entry.name}`);
      });
    },
  };
}

function entryOf(text: string): Entry | undefined {
  let spec = text.toLowerCase();
  let port: number | undefined;
  // host:port, [v6]:port; a bare IPv6 address has several colons and no port.
  const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(spec);
  if (withPort) {
    spec = withPort[1] as string;
    port = Number(withPort[2]);
  }
  spec = spec.replace(/^\[|\]$/g, '');
  const cidr = /^([^/]+)\/(\d{1,3})$/.exec(spec);
  const address = cidr ? (cidr[1] as string).replace(/^\[|\]$/g, '') : spec;
  const family = isIP(address);
  if (family !== 0) {
    const list = new BlockList();
    const type = family === 6 ? 'ipv6' : 'ipv4';
    const bits = cidr ? Number(cidr[2]) : family === 6 ? 128 : 32;
    if (bits > (family === 6 ? 128 : 32)) return undefined;
    list.addSubnet(address, bits, type);
    return { kind: 'ip', list, ...(port !== undefined ? { port } : {}) };
  }
  const name = spec.replace(/^\*?\.+/, '');
  return name ? { kind: 'name', name, ...(port !== undefined ? { port } : {}) } : undefined;
}
