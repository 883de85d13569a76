import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portsFor } from '../src/ports-config';
import { haproxyConfig } from '../src/services/haproxy';
import { temporalServerPorts } from '../src/services/temporal-server';
import { GATEWAY_NODES, gatewayNodePort } from '../src/commands/topology';

/** Every port `./vsc topology` listens on: the profile's block, the server's other services, the nodes. */
function topologyPorts(env: NodeJS.ProcessEnv): number[] {
  const ports = portsFor('topology', env);
  // The server's ports include the profile's temporal, temporalHttp and temporalMetrics.
  const { temporal: _f, temporalHttp: _h, temporalMetrics: _m, ...rest } = ports;
  return [
    ...Object.values(rest),
    ...Object.values(temporalServerPorts({ ports })),
    ...Array.from({ length: GATEWAY_NODES }, (_, k) => gatewayNodePort({ ports }, k + 1)),
  ];
}

describe('the topology profile', () => {
  it.each([{}, { VSC_PORT_OFFSET: '800' }])('listens below the ephemeral range, on ports of its own (%p)', (env) => {
    const ports = topologyPorts(env);
    // Above 32767, Linux may have handed the port to an outgoing connection (seen: the server's start failed).
    for (const p of ports) expect(p).toBeLessThan(32768);
    expect(new Set(ports).size).toBe(ports.length);
    const others = new Set([...Object.values(portsFor('dev', env)), ...Object.values(portsFor('test', env))]);
    expect(ports.filter((p) => others.has(p))).toEqual([]);
  });

  it('gives HAProxy a configuration it accepts, with every node behind the front port', () => {
    const config = haproxyConfig(12700, [
      { name: 'gateway-1', port: 12701 },
      { name: 'gateway-2', port: 12702 },
    ]);
    expect(config).toContain('bind 127.0.0.1:12700');
    expect(config).toMatch(/server gateway-2 127\.0\.0\.1:12702 check/);
    // A node marked down by a slow check must keep its agents (the cascade the soak test found).
    expect(config).not.toContain('shutdown-sessions');
    const dir = mkdtempSync(join(tmpdir(), 'vsc-haproxy-'));
    try {
      writeFileSync(join(dir, 'haproxy.cfg'), config);
      // haproxy -c parses and checks the file without starting (ensureUnitTools installs Debian's haproxy).
      expect(execFileSync('haproxy', ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' })).toMatch(
        /Configuration file is valid/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
