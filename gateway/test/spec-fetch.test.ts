import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createSpecFetch } from '../src/services/spec-fetch';

/**
 * The gateway fetches a specification from a URL a tenant gives, from a host the tenant (or anyone)
 * controls: read as an attacker would, through the real egress guard and a real local server.
 */
describe('spec fetch, as an attacker', () => {
  let server: Server;
  let port: number;
  const open = new Set<Socket>();
  const spec = JSON.stringify({ openapi: '3.0.3', info: { title: 't', version: '1' }, paths: {} });

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/slow') {
        // Headers at once, then a body that never ends.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(spec);
    });
    // A host that never closes an idle connection: whatever the gateway leaves open stays open.
    server.keepAliveTimeout = 0;
    server.on('connection', (socket) => {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of open) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const failure = (p: Promise<unknown>) =>
    p.then(
      () => 'fetched',
      (err: Error) => err.message,
    );

  it('closes its connection when the document is read: a host that keeps it open cannot pile up sockets', async () => {
    const fetchSpec = createSpecFetch({ allowPrivate: true, maxBytes: 1024 * 1024, timeoutMs: 10_000 });
    for (let i = 0; i < 3; i++) expect((await fetchSpec(`http://localhost:${port}/openapi.json`)).text).toBe(spec);
    // Polled, not timed: the client side closes each socket right after its answer.
    for (let tries = 0; open.size > 0 && tries < 200; tries++) await new Promise((r) => setTimeout(r, 10));
    expect(open.size).toBe(0);
  });

  it('says why a private name is refused without telling what it resolves to', async () => {
    const fetchSpec = createSpecFetch({ allowPrivate: false, maxBytes: 1024 * 1024, timeoutMs: 10_000 });
    const message = await failure(fetchSpec(`http://localhost:${port}/openapi.json`));
    expect(message).toMatch(/^could not fetch the specification: localhost .*private or loopback/);
    // The gateway's DNS view of its own network (which address an internal name has) is not the caller's.
    expect(message).not.toContain('127.0.0.1');
  });

  it('gives up on a body that never ends', async () => {
    const fetchSpec = createSpecFetch({ allowPrivate: true, maxBytes: 1024 * 1024, timeoutMs: 300 });
    expect(await failure(fetchSpec(`http://localhost:${port}/slow`))).toMatch(/did not answer within 300 ms/);
  });

  it.each([
    ['a file URL', 'file:///etc/passwd', /must be an http\(s\) URL/],
    ['a decimal IP', 'http://2130706433:PORT/openapi.json', /IP address/],
    ['an octal IP', 'http://0177.0.0.1:PORT/openapi.json', /IP address/],
    ['an IPv4-mapped IPv6 literal', 'http://[::ffff:127.0.0.1]:PORT/openapi.json', /IP address/],
    ['user info', 'http://x:y@localhost:PORT/openapi.json', /must not carry credentials/],
    // The port is known once the server listens.
  ])('refuses %s before any connection', async (_what, url, reason) => {
    const fetchSpec = createSpecFetch({ allowPrivate: true, maxBytes: 1024 * 1024, timeoutMs: 10_000 });
    const before = open.size;
    expect(await failure(fetchSpec(url.replace('PORT', String(port))))).toMatch(reason);
    expect(open.size).toBe(before);
  });
});
