import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import { ensureProxyTestTools } from '@vansales/infra';
import { until } from './harness';

/**
 * A site network for the agent's proxy test: a network namespace whose only link is a veth pair to
 * this machine (no default route: the namespace reaches one address, the host's end of the pair),
 * Debian's Tinyproxy listening on that address with Basic authentication, and TCP forwards there
 * for what the site itself holds (its database). The gateway listens on the host's 127.0.0.1, which
 * the namespace cannot reach (its own loopback is another), so its only way to the gateway is the proxy.
 * Needs root (CI runs as root): `ip netns` refuses otherwise, and the test says so.
 */
export interface SiteNetwork {
  namespace: string;
  /** The host's address on the veth pair (the proxy's), and the namespace's. */
  hostAddress: string;
  siteAddress: string;
  proxy: { port: number; user: string; password: string; url(password?: string): string; log(): string };
  /** Forwards hostAddress:<port> to 127.0.0.1:targetPort (a site service the agent reaches without the proxy). */
  forward(targetPort: number): Promise<number>;
  /** Runs a command inside the namespace. */
  spawnInside(command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess;
  close(): Promise<void>;
}

export async function startSiteNetwork(): Promise<SiteNetwork> {
  if (process.getuid?.() !== 0)
    throw new Error(
      'the proxy test builds a network namespace (ip netns), which needs root: run it as root, as CI does',
    );
  const tools = ensureProxyTestTools((m) => process.stderr.write(`${m}\n`));
  const id = randomBytes(3).toString('hex');
  const namespace = `vscpx-${id}`;
  const hostIf = `vpx${id}h`;
  const siteIf = `vpx${id}s`;
  // A random /30 of 10.231.0.0/16, so two runs on one machine do not meet.
  const base = randomInt(0, 16384) * 4;
  const addr = (n: number) => `10.231.${Math.floor((base + n) / 256)}.${(base + n) % 256}`;
  const hostAddress = addr(1);
  const siteAddress = addr(2);
  const ip = (...args: string[]) => execFileSync(tools.ip, args, { stdio: 'pipe' });
  const servers: Server[] = [];
  let tinyproxy: ChildProcess | undefined;
  let work: string | undefined;
  const close = async () => {
    tinyproxy?.kill('SIGTERM');
    if (work) rmSync(work, { recursive: true, force: true });
    for (const s of servers) s.close();
    // Deleting the namespace deletes its end of the pair, and with it the host's.
    try {
      ip('netns', 'del', namespace);
    } catch {
      // not made
    }
    try {
      ip('link', 'del', hostIf);
    } catch {
      // gone with the namespace
    }
  };
  try {
    ip('netns', 'add', namespace);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', siteIf);
    ip('link', 'set', siteIf, 'netns', namespace);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('netns', 'exec', namespace, tools.ip, 'addr', 'add', `${siteAddress}/30`, 'dev', siteIf);
    ip('netns', 'exec', namespace, tools.ip, 'link', 'set', siteIf, 'up');
    ip('netns', 'exec', namespace, tools.ip, 'link', 'set', 'lo', 'up');

    // A port free on that address now (a random one could meet a wildcard listener of another test).
    const port = await new Promise<number>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(0, hostAddress, () => {
        const free = (probe.address() as { port: number }).port;
        probe.close(() => resolve(free));
      });
    });
    const user = 'site-agent';
    const password = `pw-${randomBytes(9).toString('base64url')}`;
    // Tinyproxy drops to nobody when started as root: its folder and log must stay reachable for it.
    work = mkdtempSync(join(tmpdir(), 'vsc-tinyproxy-'));
    chmodSync(work, 0o755);
    const logFile = join(work, 'tinyproxy.log');
    writeFileSync(logFile, '');
    chmodSync(logFile, 0o666);
    const conf = join(work, 'tinyproxy.conf');
    writeFileSync(
      conf,
      [
        `Port ${port}`,
        `Listen ${hostAddress}`,
        'User nobody',
        'Group nogroup',
        'Timeout 120',
        'LogLevel Connect',
        `LogFile "${logFile}"`,
        'MaxClients 64',
        `BasicAuth ${user} ${password}`,
        'DisableViaHeader Yes',
        '',
      ].join('\n'),
    );
    tinyproxy = spawn(tools.tinyproxy, ['-d', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    tinyproxy.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
    tinyproxy.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
    await until(
      `tinyproxy to listen on ${hostAddress}:${port}`,
      () =>
        new Promise<boolean>((resolve) => {
          if (tinyproxy?.exitCode !== null) throw new Error(`tinyproxy exited: ${output.join('')}`);
          const s = connect(port, hostAddress);
          s.once('connect', () => (s.destroy(), resolve(true)));
          s.once('error', () => resolve(false));
        }),
      10_000,
    );
    return {
      namespace,
      hostAddress,
      siteAddress,
      proxy: {
        port,
        user,
        password,
        url: (pw = password) => `http://${user}:${encodeURIComponent(pw)}@${hostAddress}:${port}`,
        log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
      },
      async forward(targetPort) {
        const server = createServer((inbound) => {
          const outbound = connect(targetPort, '127.0.0.1');
          inbound.pipe(outbound).pipe(inbound);
          inbound.on('error', () => outbound.destroy());
          outbound.on('error', () => inbound.destroy());
        });
        servers.push(server);
        await new Promise<void>((resolve) => server.listen(0, hostAddress, resolve));
        return (server.address() as { port: number }).port;
      },
      spawnInside: (command, args, env) =>
        spawn(tools.ip, ['netns', 'exec', namespace, command, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
