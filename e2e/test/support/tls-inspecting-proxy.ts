import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket } from 'node:tls';

/**
 * A stand-in for a corporate TLS-inspecting proxy (the kind that re-signs every site with the
 * company's CA): it answers CONNECT, ends the client's TLS itself with a certificate its own CA
 * signed, opens a TLS connection of its own to the real target (trusting `upstreamCa`), and passes
 * the plain bytes between them, as such an appliance reads them. Only a client that trusts the
 * inspection CA gets through.
 */
export async function startTlsInspectingProxy(options: {
  /** The certificate (and key) shown to clients, signed by the inspection CA. */
  certFile: string;
  keyFile: string;
  /** What the proxy trusts for the real target. */
  upstreamCa: string;
}): Promise<{ url: string; connects: string[]; close(): Promise<void> }> {
  const cert = readFileSync(options.certFile);
  const key = readFileSync(options.keyFile);
  const ca = readFileSync(options.upstreamCa);
  const connects: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    const target = req.url ?? '';
    connects.push(target);
    const [host, port] = [target.replace(/:\d+$/, ''), Number(/:(\d+)$/.exec(target)?.[1] ?? 443)];
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) client.unshift(head);
    const inner = new TLSSocket(client, { isServer: true, cert, key });
    const upstream = tlsConnect({ host, port, ca });
    sockets.add(upstream);
    inner.pipe(upstream).pipe(inner);
    const end = () => {
      inner.destroy();
      upstream.destroy();
    };
    inner.on('error', end);
    upstream.on('error', end);
    upstream.on('close', () => sockets.delete(upstream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    connects,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
