import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthenticator, schemeCredentialProvider } from '@vansales/sdk-factory/auth';
import { createHostHttp } from '@vansales/sdk-factory/sandbox';
import { makeTestPki } from '@vansales/test-kit';
import { credentialStoreFixture } from './support/store';

// A mutualTLS scheme: the client certificate and key stored as an `mtls` credential are presented by
// the host's HTTPS transport to a real TLS server that requires a client certificate of its CA.
describe('mutualTLS through the host transport', () => {
  let f: Awaited<ReturnType<typeof credentialStoreFixture>>;
  let server: Server;
  let port: number;
  let pki: ReturnType<typeof makeTestPki>;
  const read = (file: string) => readFileSync(file, 'utf8');

  beforeAll(async () => {
    pki = makeTestPki(mkdtempSync(join(tmpdir(), 'vsc-mtls-')), 'IP:127.0.0.1');
    server = createServer(
      {
        cert: read(pki.serverCert),
        key: read(pki.serverKey),
        ca: read(pki.ca),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        res.end(JSON.stringify({ client: peer.subject?.CN }));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
    f = await credentialStoreFixture(['acme', 'globex']);
    await f.store.put('acme', 'bank.mtls', {
      kind: 'mtls',
      certificate: read(pki.clientCert),
      privateKey: read(pki.clientKey),
      ca: read(pki.ca),
    });
    // A client certificate of another CA: the server refuses the handshake.
    await f.store.put('globex', 'bank.mtls', {
      kind: 'mtls',
      certificate: read(pki.strangerCert),
      privateKey: read(pki.strangerKey),
      ca: read(pki.ca),
    });
  });
  afterAll(async () => {
    server?.close();
    await f?.db.destroy();
  });

  const call = (tenantId: string, url = `https://127.0.0.1:${port}/accounts`) => {
    const auth = createAuthenticator({ store: f.store, schemesOf: async () => ({ mtls: { type: 'mutualTLS' } }) });
    const http = createHostHttp({
      side: 'site',
      allow: [{ host: '127.0.0.1', ports: [port] }],
      timeoutMs: 10_000,
      maxResponseBytes: 1 << 20,
      credentials: {
        provider: schemeCredentialProvider(auth, { tenantId, apiRef: 'bank' }),
        schemes: ['mtls'],
        origin: new URL(url).origin,
      },
    });
    return http({ method: 'GET', url, headers: {} }, new AbortController().signal);
  };

  it('presents the stored client certificate', async () => {
    const res = await call('acme');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ client: 'client' });
  });

  it('a certificate the server does not trust, or none, gets no answer', async () => {
    await expect(call('globex')).rejects.toThrow();
    // A tenant without the credential: the host names the scheme and sends nothing.
    const none = createHostHttp({
      side: 'site',
      allow: [{ host: '127.0.0.1', ports: [port] }],
      timeoutMs: 10_000,
      maxResponseBytes: 1 << 20,
    });
    await expect(
      none({ method: 'GET', url: `https://127.0.0.1:${port}/`, headers: {} }, new AbortController().signal),
    ).rejects.toThrow();
  });

  it('refuses plain HTTP for a mutualTLS scheme', async () => {
    await expect(call('acme', `http://127.0.0.1:${port}/accounts`)).rejects.toThrow(/needs an https URL/);
  });
});
