import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { bufferPaths, BufferHeader } from '@vansales/protocol';
import { startPlatform, type Platform } from './support/harness';

// The idle limit is the longer one here, so a stalled body meets the request limit first.
const REQUEST_TIMEOUT_MS = 1500;
const CONNECTION_TIMEOUT_MS = 3000;

/** What the server said (if anything) before it closed the socket, and how long that took. */
function untilClosed(socket: Socket, limitMs: number): Promise<{ answer: string; ms: number }> {
  const started = Date.now();
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  return new Promise((resolve, reject) => {
    const limit = setTimeout(() => reject(new Error(`socket still open after ${limitMs} ms`)), limitMs);
    socket.once('close', () => {
      clearTimeout(limit);
      resolve({ answer, ms: Date.now() - started });
    });
  });
}

describe('request and connection timeouts (real services)', () => {
  let platform: Platform;
  let port: number;
  const T = `t-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    platform = await startPlatform({
      gateway: {
        VSC_GATEWAY_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        VSC_GATEWAY_CONNECTION_TIMEOUT_MS: String(CONNECTION_TIMEOUT_MS),
      },
    });
    port = Number(new URL(platform.gatewayWsUrl).port);
  });
  afterAll(async () => platform?.close());

  it('cuts a request whose body stalls, with 408 in the error shape', async () => {
    const grant = platform.gateway.grantBufferAccess({ tenantId: T, connectorId: 'c', scope: 'write' });
    const socket = connect(port, '127.0.0.1');
    const closed = untilClosed(socket, REQUEST_TIMEOUT_MS * 4);
    socket.write(
      [
        `PUT ${bufferPaths.chunk(grant.objectId, 0)} HTTP/1.1`,
        'host: gateway',
        `authorization: Bearer ${grant.token}`,
        'content-type: application/octet-stream',
        `${BufferHeader.rows}: 1`,
        'content-length: 1000',
        '',
        'only ten b',
      ].join('\r\n'),
    );
    const { answer, ms } = await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      error: { code: 'REQUEST_TIMEOUT' },
    });
    expect(ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    expect(ms).toBeLessThan(CONNECTION_TIMEOUT_MS);
  });

  it('answers a connection that never sends its request with 408 in the error shape', async () => {
    const socket = connect(port, '127.0.0.1');
    const { answer, ms } = await untilClosed(socket, REQUEST_TIMEOUT_MS * 4);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
      error: { code: 'REQUEST_TIMEOUT', message: 'the request did not arrive in time' },
    });
    expect(ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
  });

  it('closes a socket that stays silent longer than the idle limit, even while its answer is awaited', async () => {
    await platform.api('POST', '/v1/tenants', { id: T, name: 'Timeouts' });
    const offline = (await platform.api<{ id: string }>('POST', `/v1/tenants/${T}/connectors`, { name: 'offline' }))
      .body;
    const started = Date.now();
    // A synchronous query for an agent that is not there: nothing moves on the socket meanwhile.
    const outcome = await fetch(`http://127.0.0.1:${port}/v1/tenants/${T}/queries`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ connectorId: offline.id, database: 'erp', sql: 'SELECT 1', maxOfflineSeconds: 5 }),
    }).then(
      (res) => `answered ${res.status}`,
      () => 'closed',
    );
    expect(outcome).toBe('closed');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(CONNECTION_TIMEOUT_MS - 100);
    // Cut by the idle limit, not answered when the workflow gave up on the agent (5 s).
    expect(elapsed).toBeLessThan(5000);
  });

  it('still takes a chunk that arrives in time (the defaults are sized for 32 MiB ones), and keeps agent WebSockets open past the idle limit', async () => {
    const w = platform.gateway.grantBufferAccess({ tenantId: T, connectorId: 'c', scope: 'write' });
    // Small enough to arrive within the short test limit on a loaded machine.
    const chunk = randomBytes(1024 * 1024);
    const res = await fetch(`http://127.0.0.1:${port}${bufferPaths.chunk(w.objectId, 0)}`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${w.token}`,
        'content-type': 'application/octet-stream',
        [BufferHeader.rows]: '1',
      },
      body: chunk,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { bytes: number }).bytes).toBe(chunk.length);

    const c = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${T}/connectors`, { name: 'idle' })
    ).body;
    const agent = platform.startCustomAgent(c.apiKey, {});
    await agent.welcomed;
    // The condition here is time itself: an agent socket outlives three idle limits.
    await new Promise((r) => setTimeout(r, CONNECTION_TIMEOUT_MS * 3));
    expect(platform.gateway.hub.isOnline(c.id)).toBe(true);
  });
});
