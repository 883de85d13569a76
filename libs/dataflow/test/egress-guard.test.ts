import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { LookupAddress } from 'node:dns';
import {
  addressProblem,
  checkAllowlist,
  cloudEgress,
  guardedTransport,
  type DataflowError,
  type EgressResolver,
  type GuardedTransportOptions,
} from '../src';

describe('the cloud egress guard', () => {
  it.each([
    ['127.0.0.1'],
    ['10.1.2.3'],
    ['172.16.0.1'],
    ['192.168.1.1'],
    ['100.64.0.1'],
    ['::1'],
    ['fd12::1'],
    ['::ffff:127.0.0.1'],
    ['::ffff:10.0.0.1'],
  ])('refuses the private or loopback address %s by default', (ip) => {
    expect(addressProblem(ip, false)).toMatch(/private or loopback/);
  });

  it.each([['169.254.169.254'], ['fd00:ec2::254'], ['100.100.100.200'], ['fe80::1'], ['0.0.0.0'], ['224.0.0.1']])(
    'refuses the metadata, link-local or reserved address %s even when private ranges are allowed',
    (ip) => {
      expect(addressProblem(ip, true)).toMatch(/link-local, metadata or reserved/);
    },
  );

  it('allows public addresses, and private ones only when told to', () => {
    expect(addressProblem('93.184.216.34', false)).toBeUndefined();
    expect(addressProblem('2606:2800:220:1:248:1893:25c8:1946', false)).toBeUndefined();
    expect(addressProblem('127.0.0.1', true)).toBeUndefined();
  });

  it('checks every address a name resolves to, and only http(s)', async () => {
    const egress = cloudEgress({ allowPrivate: false, timeoutMs: 1000, maxResponseBytes: 1024 });
    await expect(egress.resolve('localhost')).rejects.toThrow(/localhost resolves to .* private or loopback/);
    await expect(egress.resolve('[::1]')).rejects.toThrow(/private or loopback/);
    expect(() => egress.check(new URL('ftp://example.com/x'))).toThrow(/only http and https/);
    expect(() => egress.check(new URL('file:///etc/passwd'))).toThrow(/only http and https/);
  });

  it('reads the hex form of an IPv4-mapped IPv6 address as the IPv4 address', () => {
    expect(addressProblem('::ffff:7f00:1', false)).toMatch(/private or loopback/);
    expect(addressProblem('::ffff:a9fe:a9fe', true)).toMatch(/link-local/);
  });
});

/** Real local HTTP servers behind names that a hosts map resolves (there is no public DNS here). */
describe('the guarded transport (allowlist, pinning, redirects, size caps)', () => {
  let server: Server;
  let port = 0;
  let streamedClosedEarly: Promise<boolean> = Promise.resolve(false);
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/ok') return res.end(JSON.stringify({ host: req.headers.host, path: url.pathname }));
    if (url.pathname === '/same-host') return res.writeHead(302, { location: '/ok' }).end();
    if (url.pathname === '/loop') return res.writeHead(302, { location: '/loop' }).end();
    if (url.pathname === '/other-host')
      return res.writeHead(302, { location: `http://other.example:${port}/ok` }).end();
    if (url.pathname === '/declared-huge') return res.writeHead(200, { 'content-length': '10000000' }).end();
    if (url.pathname === '/endless') {
      // Streams without end: the client must abort past its cap, which closes this response early.
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 97);
      streamedClosedEarly = new Promise((resolve) => {
        let sent = 0;
        const pump = () => {
          while (sent < 64 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => resolve(!res.writableFinished));
        pump();
      });
      return;
    }
    res.writeHead(404).end();
  };

  beforeAll(async () => {
    server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const hosts =
    (map: Record<string, string[]>, calls: string[] = []): EgressResolver =>
    async (hostname) => {
      calls.push(hostname);
      const found = map[hostname];
      if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return found.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
    };
  const transport = (options: Partial<GuardedTransportOptions>) =>
    guardedTransport({
      side: 'cloud',
      allow: [
        { host: 'api.example', ports: [port] },
        { host: 'other.example', ports: [port] },
      ],
      // 127.0.0.1 stands in for a public address in these tests; the cloud-side refusal has its own test.
      allowPrivate: true,
      resolver: hosts({ 'api.example': ['127.0.0.1'], 'other.example': ['127.0.0.1'] }),
      timeoutMs: 5_000,
      maxResponseBytes: 64 * 1024,
      ...options,
    });
  const get = (url: string) => ({ method: 'GET' as const, url: new URL(url), headers: {} });
  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return `${(err as DataflowError).code}: ${(err as Error).message}`;
    }
    return 'answered';
  };

  it('calls an allowlisted host, and refuses hosts and ports not on the allowlist', async () => {
    const send = transport({});
    const res = await send(get(`http://api.example:${port}/ok`));
    expect(res.status).toBe(200);
    expect(await failure(send(get(`http://elsewhere.example:${port}/ok`)))).toMatch(
      /HTTP_REFUSED: elsewhere.example is not on the egress allowlist/,
    );
    expect(await failure(send(get(`http://api.example:${port + 1}/ok`)))).toMatch(/HTTP_REFUSED: port/);
  });

  it('refuses IP literals on the cloud side, even allowlisted ones', async () => {
    const send = transport({ allow: [{ host: '127.0.0.1', ports: [port] }] });
    expect(await failure(send(get(`http://127.0.0.1:${port}/ok`)))).toMatch(/HTTP_REFUSED: 127.0.0.1 is an IP address/);
    expect(await failure(send(get(`http://[::ffff:7f00:1]:${port}/ok`)))).toMatch(/HTTP_REFUSED: .* is an IP address/);
  });

  it('refuses a name that resolves to loopback on the cloud side; the site side calls its private host', async () => {
    const cloud = transport({ allowPrivate: false });
    const refusal = await failure(cloud(get(`http://api.example:${port}/ok`)));
    expect(refusal).toMatch(/HTTP_REFUSED: api.example resolves to an address that is a private or loopback address/);
    // The caller learns the rule, not the address an internal name has.
    expect(refusal).not.toContain('127.0.0.1');
    const mapped = transport({ allowPrivate: false, resolver: hosts({ 'api.example': ['::ffff:7f00:1'] }) });
    expect(await failure(mapped(get(`http://api.example:${port}/ok`)))).toMatch(/private or loopback/);
    const site = transport({ side: 'site', allowPrivate: false });
    expect((await site(get(`http://api.example:${port}/ok`))).status).toBe(200);
    const metadata = transport({ side: 'site', resolver: hosts({ 'api.example': ['169.254.169.254'] }) });
    expect(await failure(metadata(get(`http://api.example:${port}/ok`)))).toMatch(/link-local, metadata/);
  });

  it('follows a same-host redirect, refuses one to another host, and stops at the redirect limit', async () => {
    const send = transport({});
    const res = await send(get(`http://api.example:${port}/same-host`));
    expect(JSON.parse(res.body.toString())).toEqual({ host: `api.example:${port}`, path: '/ok' });
    expect(await failure(send(get(`http://api.example:${port}/other-host`)))).toMatch(
      /HTTP_REFUSED: .* redirects to another host/,
    );
    expect(await failure(send(get(`http://api.example:${port}/loop`)))).toMatch(/HTTP_FAILED: more than 5 redirects/);
    expect(await failure(transport({ maxRedirects: 0 })(get(`http://api.example:${port}/same-host`)))).toMatch(
      /more than 0 redirects/,
    );
  });

  it('resolves each host once: a second answer pointing inside (DNS rebinding) is never used', async () => {
    const calls: string[] = [];
    const answers = [['127.0.0.1'], ['169.254.169.254']];
    const rebinding: EgressResolver = async (hostname) => {
      calls.push(hostname);
      const next = answers[Math.min(calls.length - 1, answers.length - 1)]!;
      return next.map((address) => ({ address, family: 4 }));
    };
    const send = transport({ resolver: rebinding });
    expect((await send(get(`http://api.example:${port}/ok`))).status).toBe(200);
    expect((await send(get(`http://api.example:${port}/same-host`))).status).toBe(200);
    expect((await send(get(`http://API.example:${port}/ok`))).status).toBe(200);
    expect(calls).toEqual(['api.example']);
  });

  it('aborts a body past the cap while it streams, and refuses a declared oversize length up front', async () => {
    const send = transport({});
    expect(await failure(send(get(`http://api.example:${port}/endless`)))).toMatch(
      /HTTP_FAILED: \/endless answered more than 65536 bytes/,
    );
    expect(await streamedClosedEarly).toBe(true);
    expect(await failure(send(get(`http://api.example:${port}/declared-huge`)))).toMatch(/more than 65536 bytes/);
  });

  it("closes an idle pooled connection: a host that never closes one cannot hold the caller's sockets", async () => {
    // A transport lives for one operation run and nothing closes it after: its keep-alive pool must not
    // keep a socket for as long as the (tenant-chosen) host likes.
    const open = new Set<Socket>();
    // `/slow` answers after longer than the idle limit: an active request is not idle.
    const holding = createServer((req, res) =>
      req.url === '/slow' ? setTimeout(() => res.end('{}'), 300) : res.end('{}'),
    );
    holding.keepAliveTimeout = 0;
    holding.on('connection', (socket) => {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
    });
    await new Promise<void>((resolve) => holding.listen(0, '127.0.0.1', resolve));
    try {
      const held = (holding.address() as AddressInfo).port;
      const send = transport({ allow: [{ host: 'api.example', ports: [held] }], idleSocketMs: 50 });
      expect((await send(get(`http://api.example:${held}/a`))).status).toBe(200);
      expect((await send(get(`http://api.example:${held}/b`))).status).toBe(200);
      expect((await send(get(`http://api.example:${held}/slow`))).status).toBe(200);
      // Polled, not timed.
      for (let tries = 0; open.size > 0 && tries < 300; tries++) await new Promise((r) => setTimeout(r, 10));
      expect(open.size).toBe(0);
    } finally {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => holding.close(resolve));
    }
  });

  it('matches allowlist wildcards on subdomains only, with default ports by scheme', () => {
    const rules = [{ host: '*.example.com' }, { host: 'api.test', ports: [8443] }];
    expect(() => checkAllowlist(rules, new URL('https://a.example.com/x'))).not.toThrow();
    expect(() => checkAllowlist(rules, new URL('http://a.b.example.com/x'))).not.toThrow();
    expect(() => checkAllowlist(rules, new URL('https://example.com/x'))).toThrow(/not on the egress allowlist/);
    expect(() => checkAllowlist(rules, new URL('https://evilexample.com/x'))).toThrow(/not on the egress allowlist/);
    expect(() => checkAllowlist(rules, new URL('https://a.example.com:8443/x'))).toThrow(/port 8443/);
    expect(() => checkAllowlist(rules, new URL('https://api.test:8443/x'))).not.toThrow();
  });
});
