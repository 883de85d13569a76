import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '@vansales/protocol';
import { startPlatform, sakilaDatabase, sakilaReader, type Platform } from './support/harness';

describe('bad input at the gateway and on the site (real services)', () => {
  let platform: Platform;
  let tenantId: string;
  const newConnector = async (name: string) =>
    (await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name })).body;

  beforeAll(async () => {
    platform = await startPlatform();
    tenantId = `t-${randomBytes(4).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Bad input' });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('closes a connection that sends a 100 MB frame, logs it, and keeps serving other agents', async () => {
    const healthy = await newConnector('healthy');
    const reader = await sakilaReader();
    const agent = platform.startAgent({ apiKey: healthy.apiKey, databases: { sakila: sakilaDatabase(reader) } });
    await agent.welcomed;

    const big = await newConnector('big');
    const ws = new WebSocket(platform.gatewayWsUrl, {
      headers: await platform.agentHeaders(big.apiKey),
    });
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('error', () => undefined);
    // A welcomed session first: sent before its hello, 100 MB can take longer than the hello timeout
    // on a loaded machine, and the socket would close for that instead.
    const welcomed = new Promise<void>((resolve) =>
      ws.on('message', (d: Buffer) => {
        if ((JSON.parse(d.toString()) as { type: string }).type === 'welcome') resolve();
      }),
    );
    ws.send(
      JSON.stringify({
        type: 'hello',
        protocolVersion: PROTOCOL_VERSION,
        agentVersion: 'big',
        machineId: 'big',
        capabilities: ['agent.ping'],
        concurrency: 1,
        databases: [],
      }),
    );
    await welcomed;
    ws.send(Buffer.alloc(100 * 1024 * 1024, 0x61).toString());
    expect(await closed).toBe(1009); // "message too big", from the server

    const health = await platform.gateway.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.json()).toMatchObject({ status: 'ok' });
    const res = await platform.api<{ result?: { rows: unknown[][] } }>('POST', `/v1/tenants/${tenantId}/queries`, {
      connectorId: healthy.id,
      database: 'sakila',
      sql: 'SELECT 1 AS one',
    });
    expect(res.body.result?.rows).toEqual([[1]]);
  });

  it('fails retryably with DatabaseUnavailable when the site database is down', async () => {
    const c = await newConnector('db-down');
    const agent = platform.startAgent({
      apiKey: c.apiKey,
      databases: {
        erp: { dialect: 'postgres', host: '127.0.0.1', port: 1, user: 'u', password: 'p', database: 'erp' },
      },
    });
    await agent.welcomed;
    const started = await platform.api<{ workflowId: string }>('POST', `/v1/tenants/${tenantId}/queries`, {
      connectorId: c.id,
      database: 'erp',
      sql: 'SELECT 1',
      wait: false,
    });
    const handle = platform.temporal.workflow.getHandle(started.body.workflowId);
    let lastFailure:
      | {
          message?: string | null;
          applicationFailureInfo?: { type?: string | null; nonRetryable?: boolean | null } | null;
        }
      | undefined;
    const deadline = Date.now() + 30_000;
    while (!lastFailure && Date.now() < deadline) {
      const d = await handle.describe();
      lastFailure = (d.raw.pendingActivities?.[0]?.lastFailure ?? undefined) as typeof lastFailure;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(lastFailure?.applicationFailureInfo?.type).toBe('DatabaseUnavailable');
    expect(lastFailure?.applicationFailureInfo?.nonRetryable).toBeFalsy();
    // Stored encrypted: the raw text is a placeholder; the codec endpoint (what operators use) reads it.
    expect(lastFailure?.message).toBe('Encoded failure');
    const encoded = (
      lastFailure as { encodedAttributes?: { metadata?: Record<string, Uint8Array>; data?: Uint8Array } }
    ).encodedAttributes!;
    const decoded = await platform.gateway.app.inject({
      method: 'POST',
      url: '/v1/codec/decode',
      headers: { authorization: `Bearer ${platform.adminToken}` },
      payload: {
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(encoded.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
            ),
            data: Buffer.from(encoded.data!).toString('base64'),
          },
        ],
      },
    });
    const attributes = JSON.parse(
      Buffer.from((decoded.json() as { payloads: { data: string }[] }).payloads[0]!.data, 'base64').toString('utf8'),
    ) as { message: string };
    expect(attributes.message).toMatch(/cannot connect to PostgreSQL at 127\.0\.0\.1:1: ECONNREFUSED/);
    await handle.terminate('test done');
  });
});
