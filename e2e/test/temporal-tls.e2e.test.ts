import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection } from '@temporalio/client';
import { ensureLocalGoBinary, TEMPORAL_TLS_SERVER } from '@vansales/infra';
import {
  connectTemporalClient,
  ensureNamespace,
  SEARCH_ATTRIBUTE_NAMES,
  TemporalConnectionEnv,
  temporalConnectionOptions,
} from '@vansales/temporal-config';
import { makeTestPki } from '@vansales/test-kit';
import { startPlatform, sakilaDatabase, sakilaReader, until } from './support/harness';

const NAMESPACE = 'vansales';
// The frontend certificate names only this host, so every client must override the server name:
// proves TEMPORAL_TLS_SERVER_NAME reaches the handshake.
const SERVER_NAME = 'temporal.vsc.test';

type Pki = ReturnType<typeof makeTestPki>;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Every server this file started, stopped at the end even when a start failed half way. */
const started: ChildProcess[] = [];

interface TlsServer {
  address: string;
  process: ChildProcess;
  output: string[];
}

/** The embedded Temporal server of infra/go/temporal-tls-server, on its own ports. */
async function startTlsServer(pki: Pki, options: { mtls: boolean; apiKey?: string }): Promise<TlsServer> {
  const binary = ensureLocalGoBinary(TEMPORAL_TLS_SERVER, (line) => process.stderr.write(`${line}\n`));
  const port = await freePort();
  const args = [
    ...['-port', String(port), '-http-port', String(await freePort()), '-namespace', NAMESPACE],
    ...['-keyword-attributes', SEARCH_ATTRIBUTE_NAMES.join(',')],
    ...['-tls-cert', pki.serverCert, '-tls-key', pki.serverKey, '-tls-ca', pki.ca, '-server-name', SERVER_NAME],
    ...(options.mtls
      ? ['-client-ca', pki.ca, '-worker-cert', pki.serverCert, '-worker-key', pki.serverKey]
      : ['-worker-cert', '', '-worker-key', '']),
  ];
  const child = spawn(binary, args, {
    env: { ...process.env, VSC_TLS_SERVER_API_KEY: options.apiKey ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout.on('data', (d) => output.push(String(d)));
  child.stderr.on('data', (d) => output.push(String(d)));
  started.push(child);
  const server = { address: `127.0.0.1:${port}`, process: child, output };
  const goodEnv = {
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.ca,
    TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
    ...(options.mtls
      ? { TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey }
      : {}),
    ...(options.apiKey ? { TEMPORAL_API_KEY: options.apiKey } : {}),
  };
  let lastError = '';
  await until(
    `the TLS Temporal server on ${server.address}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`TLS server exited: ${output.join('').slice(0, 3000)}`);
      let c: Connection | undefined;
      try {
        c = await connect(goodEnv);
        await ensureNamespace(c, NAMESPACE);
        return true;
      } catch (err) {
        lastError = (err as Error).message;
        return false;
      } finally {
        await c?.close();
      }
    },
    90_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last error: ${lastError}; server said: ${output.join('').slice(-1000)}`);
  });
  return server;
}

/** A client connection made exactly as every process makes one: from TEMPORAL_* settings. */
function connect(env: Record<string, string>): Promise<Connection> {
  const parsed = TemporalConnectionEnv.parse(env);
  return connectTemporalClient({ ...temporalConnectionOptions(parsed), connectTimeout: 3000 });
}

/** Whether a namespace-scoped call goes through with these settings (connecting included). */
async function describes(env: Record<string, string>): Promise<true | string> {
  let c: Connection | undefined;
  try {
    c = await connect(env);
    await c.workflowService.listWorkflowExecutions({ namespace: NAMESPACE, pageSize: 1 });
    return true;
  } catch (err) {
    // Connection.connect wraps the refusal of its first call; the server's words are in the cause.
    const messages: string[] = [];
    for (let e: unknown = err; e instanceof Error; e = e.cause) messages.push(e.message);
    return messages.join(' <- ');
  } finally {
    await c?.close();
  }
}

describe('Temporal over TLS and mTLS (a real Temporal server with a TLS frontend)', () => {
  let dir: string;
  let pki: Pki;
  let mtls: TlsServer;
  let tls: TlsServer;
  const apiKey = `key-${randomBytes(16).toString('hex')}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vsc-temporal-tls-'));
    pki = makeTestPki(dir, `DNS:${SERVER_NAME}`);
    [mtls, tls] = await Promise.all([
      startTlsServer(pki, { mtls: true }),
      startTlsServer(pki, { mtls: false, apiKey }),
    ]);
  }, 600_000);
  afterAll(() => {
    for (const child of started) child.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const trusted = () => ({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.ca, TEMPORAL_TLS_SERVER_NAME: SERVER_NAME });
  const client = () => ({ TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey });

  it('refuses a plaintext client', async () => {
    expect(await describes({ TEMPORAL_ADDRESS: tls.address, TEMPORAL_API_KEY: apiKey, TEMPORAL_TLS: 'false' })).toEqual(
      expect.any(String),
    );
    expect(await describes({ TEMPORAL_ADDRESS: mtls.address })).toEqual(expect.any(String));
  });

  it('refuses a client that trusts another CA, or expects another name', async () => {
    expect(
      await describes({
        TEMPORAL_ADDRESS: tls.address,
        TEMPORAL_API_KEY: apiKey,
        ...trusted(),
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.strangerCa,
      }),
    ).toEqual(expect.any(String));
    // The system's CAs do not know ours either.
    expect(await describes({ TEMPORAL_ADDRESS: tls.address, TEMPORAL_API_KEY: apiKey })).toEqual(expect.any(String));
    expect(
      await describes({
        TEMPORAL_ADDRESS: tls.address,
        TEMPORAL_API_KEY: apiKey,
        ...trusted(),
        TEMPORAL_TLS_SERVER_NAME: 'other.test',
      }),
    ).toEqual(expect.any(String));
  });

  it('over TLS: works with the API key, refuses calls without it or with another', async () => {
    expect(await describes({ TEMPORAL_ADDRESS: tls.address, TEMPORAL_API_KEY: apiKey, ...trusted() })).toBe(true);
    expect(await describes({ TEMPORAL_ADDRESS: tls.address, ...trusted() })).toMatch(/API key/);
    expect(await describes({ TEMPORAL_ADDRESS: tls.address, TEMPORAL_API_KEY: `${apiKey}x`, ...trusted() })).toMatch(
      /API key/,
    );
  });

  it('over mTLS: refuses a client without a certificate or with one of another CA', async () => {
    expect(await describes({ TEMPORAL_ADDRESS: mtls.address, ...trusted(), ...client() })).toBe(true);
    expect(await describes({ TEMPORAL_ADDRESS: mtls.address, ...trusted() })).toEqual(expect.any(String));
    expect(
      await describes({
        TEMPORAL_ADDRESS: mtls.address,
        ...trusted(),
        TEMPORAL_TLS_CLIENT_CERT_PATH: pki.strangerCert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: pki.strangerKey,
      }),
    ).toEqual(expect.any(String));
  });

  it('runs a query through gateway, agent Worker and cloud worker, all configured by TEMPORAL_* over mTLS', async () => {
    // Certificates given as data this time, the other form the SDK's environment configuration knows.
    const platform = await startPlatform({
      temporal: {
        TEMPORAL_ADDRESS: mtls.address,
        TEMPORAL_NAMESPACE: NAMESPACE,
        TEMPORAL_TLS_SERVER_CA_CERT_DATA: readFileSync(pki.ca, 'utf8'),
        TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
        TEMPORAL_TLS_CLIENT_CERT_DATA: readFileSync(pki.clientCert, 'utf8'),
        TEMPORAL_TLS_CLIENT_KEY_DATA: readFileSync(pki.clientKey, 'utf8'),
      },
    });
    try {
      const tenantId = `t-${randomBytes(4).toString('hex')}`;
      await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Secured' });
      const connector = (
        await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name: 'hq' })
      ).body;
      const agent = platform.startAgent({
        apiKey: connector.apiKey,
        databases: { sakila: sakilaDatabase(await sakilaReader()) },
      });
      await agent.welcomed;
      const res = await platform.api<{ result?: { rows: unknown[][] } }>('POST', `/v1/tenants/${tenantId}/queries`, {
        connectorId: connector.id,
        database: 'sakila',
        sql: 'SELECT film_id FROM film ORDER BY film_id LIMIT 3',
      });
      expect(res.status).toBe(200);
      expect(res.body.result?.rows.map((r) => Number(r[0]))).toEqual([1, 2, 3]);
      // And no certificate or key reached a log line.
      const logs = platform.logs.lines.join('\n');
      expect(logs).not.toContain('PRIVATE KEY');
    } finally {
      await platform.close();
    }
  });
});
