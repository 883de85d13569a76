import { chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureAptPackages } from '../install';
import type { ServiceContext, ServiceSpec } from '../service';
import { dropTo, privateDir } from './system-user';

/**
 * The load balancer in front of the gateway nodes: Debian's HAProxy, HTTP mode (the agents' WebSocket
 * upgrade passes through it like any request, then the tunnel timeout applies).
 */
export function haproxyConfig(frontPort: number, nodes: { name: string; port: number }[]): string {
  return [
    'global',
    // Each connection holds two descriptors (client and node side): 4,000 fits a hard limit of 8,192.
    '  maxconn 4000',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    // An agent's socket is idle between tasks and heartbeats (every 15 s by default): the tunnel
    // timeout, not the client/server ones, governs it once upgraded.
    '  timeout tunnel 1h',
    '  timeout http-request 10s',
    // A connection refused by a node that just died is retried on another one, so a reconnecting agent
    // lands on a live node even before the health check has marked the dead one down.
    '  retries 2',
    '  option redispatch',
    'frontend gateway',
    `  bind 127.0.0.1:${frontPort}`,
    '  default_backend gateway_nodes',
    'backend gateway_nodes',
    // Least connections: after a node loss its agents spread over the survivors evenly.
    '  balance leastconn',
    '  option httpchk GET /healthz',
    '  http-check expect status 200',
    // Marked down after three failed checks two seconds apart. A node's established sockets are left
    // alone when it is marked down (no on-marked-down shutdown-sessions): a dead node's die with it, and a
    // live node that was only slow to answer a check (a busy machine, 500 agents reconnecting to it)
    // would otherwise lose every agent at once and cascade (seen in the topology test at a 1 s timeout).
    '  timeout check 5s',
    '  default-server inter 2s fall 3 rise 2',
    ...nodes.map((n) => `  server ${n.name} 127.0.0.1:${n.port} check`),
    '',
  ].join('\n');
}

export function haproxyService(nodes: (ctx: ServiceContext) => { name: string; port: number }[]): ServiceSpec {
  const dir = (ctx: ServiceContext) => join(ctx.stateDir, 'haproxy');
  return {
    name: 'haproxy',
    ports: (ctx) => [ctx.ports.gateway],
    readyTimeoutMs: 30_000,
    install(ctx) {
      ensureAptPackages([{ probe: 'haproxy', pkg: 'haproxy' }], ctx.log);
    },
    prepare(ctx) {
      const owner = dropTo('haproxy');
      privateDir(dir(ctx), owner);
      const file = join(dir(ctx), 'haproxy.cfg');
      writeFileSync(file, haproxyConfig(ctx.ports.gateway, nodes(ctx)), { mode: 0o600 });
      if (owner) chownSync(file, owner.uid, owner.gid);
    },
    launch(ctx) {
      // -db: foreground, no daemon (the supervisor owns the process); -W would fork a master.
      return { command: 'haproxy', args: ['-db', '-f', join(dir(ctx), 'haproxy.cfg')], user: dropTo('haproxy') };
    },
    async ready(ctx) {
      const res = await fetch(`http://127.0.0.1:${ctx.ports.gateway}/healthz`, { signal: AbortSignal.timeout(1000) });
      return res.ok;
    },
  };
}
