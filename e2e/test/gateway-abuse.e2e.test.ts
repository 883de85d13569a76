import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { bufferPaths, BufferHeader, PROTOCOL_VERSION } from '@vansales/protocol';
import { machineId } from '@vansales/connector-agent';
import { startPlatform, until, type Platform } from './support/harness';

const MiB = 1024 * 1024;
const BODY_IDLE_MS = 1000;

/**
 * The gateway keeps serving under abuse (issue 9, item 5): stalled uploads give their chunk slots
 * back, one tenant cannot take every slot, bytes are bounded per object and per tenant, and an
 * agent cannot choose how many tasks it is sent at once.
 */
describe('the gateway under abuse (real services)', () => {
  let platform: Platform;
  let port: number;
  const quotaTenant = `tq${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    platform = await startPlatform({
      buffer: {
        VSC_BUFFER_MAX_INFLIGHT_CHUNKS: '2',
        VSC_BUFFER_MAX_INFLIGHT_CHUNKS_PER_TENANT: '1',
        VSC_BUFFER_MAX_OBJECT_BYTES: String(2 * MiB),
        VSC_BUFFER_TENANT_QUOTAS: JSON.stringify({ [quotaTenant]: 3 * MiB }),
      },
      gateway: { VSC_GATEWAY_BODY_IDLE_TIMEOUT_MS: String(BODY_IDLE_MS), VSC_AGENT_MAX_CONCURRENCY: '2' },
    });
    port = Number(new URL(platform.gatewayWsUrl).port);
  });
  afterAll(async () => platform?.close());

  const grant = (tenantId: string) =>
    platform.gateway.grantBufferAccess({ tenantId, connectorId: 'c', scope: 'write' });
  const put = (g: { objectId: string; token: string }, index: number, bytes: number) =>
    platform.gateway.app.inject({
      method: 'PUT',
      url: bufferPaths.chunk(g.objectId, index),
      payload: randomBytes(bytes),
      headers: {
        authorization: `Bearer ${g.token}`,
        'content-type': 'application/octet-stream',
        [BufferHeader.rows]: '1',
      },
    });

  /** An upload over a real socket that sends its headers and 10 bytes of 1000, then nothing. */
  function stalledUpload(tenantId: string): { socket: Socket; answer: Promise<string> } {
    const g = grant(tenantId);
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.write(
      [
        `PUT ${bufferPaths.chunk(g.objectId, 0)} HTTP/1.1`,
        'host: gateway',
        `authorization: Bearer ${g.token}`,
        'content-type: application/octet-stream',
        `${BufferHeader.rows}: 1`,
        'content-length: 1000',
        '',
        'only ten b',
      ].join('\r\n'),
    );
    return { socket, answer: new Promise((resolve) => socket.once('close', () => resolve(answer))) };
  }
  const arrived = (n: number) =>
    until(`${n} stalled uploads to hold their slots`, () => {
      const lines = platform.logs.lines.filter((l) => l.includes('incoming request') && l.includes('/chunks/0'));
      return lines.length >= n;
    });

  it('gives the chunk slots of stalled uploads back after the body idle limit; other uploads are served again', async () => {
    const before = platform.logs.lines.filter((l) => l.includes('incoming request') && l.includes('/chunks/0')).length;
    const stalled = [stalledUpload('ta'), stalledUpload('tb')];
    await arrived(before + 2);
    // Every slot is held: a third tenant is turned away for now.
    expect((await put(grant('tc'), 0, 1024)).statusCode).toBe(503);
    // Cut by the idle limit (well before the 300 s whole-request allowance), with 408 in the error shape.
    for (const s of stalled) {
      const answer = await s.answer;
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      expect(answer).toContain('"code":"REQUEST_TIMEOUT"');
      expect(answer).toContain(`sent nothing for ${BODY_IDLE_MS} ms`);
    }
    expect((await put(grant('tc'), 0, 1024)).statusCode).toBe(200);
  });

  it("keeps one tenant's uploads from taking every slot", async () => {
    const before = platform.logs.lines.filter((l) => l.includes('incoming request') && l.includes('/chunks/0')).length;
    const held = stalledUpload('greedy');
    await arrived(before + 1);
    const second = await put(grant('greedy'), 0, 1024);
    expect(second.statusCode).toBe(503);
    expect(second.headers['retry-after']).toBe('1');
    expect(second.json().error.message).toMatch(/this tenant is moving 1 chunks already/);
    // Another tenant still has a slot.
    expect((await put(grant('modest'), 0, 1024)).statusCode).toBe(200);
    held.socket.destroy();
  });

  it('refuses an object past its byte limit with 413, counting a rewritten chunk once', async () => {
    const g = grant('objq');
    expect((await put(g, 0, MiB)).statusCode).toBe(200);
    expect((await put(g, 1, MiB)).statusCode).toBe(200);
    expect((await put(g, 1, MiB)).statusCode).toBe(200); // the same chunk again: still 2 MiB
    const over = await put(g, 2, 1024);
    expect(over.statusCode).toBe(413);
    expect(over.json().error).toMatchObject({ code: 'TOO_LARGE', max: 2 * MiB });
    expect(over.json().error.message).toMatch(/VSC_BUFFER_MAX_OBJECT_BYTES.*split/);
  });

  it('refuses a tenant past its quota with 429 and Retry-After, counted in the metadata store, and other tenants go on', async () => {
    const first = grant(quotaTenant);
    expect((await put(first, 0, MiB)).statusCode).toBe(200);
    expect((await put(first, 1, MiB)).statusCode).toBe(200);
    const second = grant(quotaTenant);
    expect((await put(second, 0, MiB)).statusCode).toBe(200);
    const over = await put(second, 1, 1024);
    expect(over.statusCode).toBe(429);
    expect(over.json().error).toMatchObject({ code: 'QUOTA_EXCEEDED', quotaBytes: 3 * MiB, usedBytes: 3 * MiB });
    expect(over.json().error.message).toMatch(/VSC_BUFFER_TENANT_QUOTAS/);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    // Durable: the count is in the metadata store, not in this process.
    const rows = await platform.gateway.db
      .selectFrom('buffer_usage')
      .select((eb) => eb.fn.sum<string>('bytes').as('bytes'))
      .where('tenant_id', '=', quotaTenant)
      .executeTakeFirst();
    expect(Number(rows?.bytes)).toBe(3 * MiB);
    expect((await put(grant('other-tenant'), 0, MiB)).statusCode).toBe(200);
  });

  it('sends an agent no more tasks at once than VSC_AGENT_MAX_CONCURRENCY, whatever its hello asks for', async () => {
    const tenantId = `cc${randomBytes(3).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Concurrency' });
    const c = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, {
        name: 'greedy',
      })
    ).body;
    const ws = new WebSocket(platform.gatewayWsUrl, { headers: await platform.agentHeaders(c.apiKey) });
    ws.on('error', () => undefined);
    let inFlight = 0;
    let maxInFlight = 0;
    let received = 0;
    let welcomed = false;
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { type: string; taskId?: string };
      if (frame.type === 'welcome') welcomed = true;
      if (frame.type !== 'task') return;
      received += 1;
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // The agent's work takes a while; meanwhile the gateway may send more, up to its cap.
      setTimeout(() => {
        inFlight -= 1;
        ws.send(
          JSON.stringify({
            type: 'failure',
            taskId: frame.taskId,
            errorType: 'Done',
            message: 'done',
            retryable: false,
          }),
        );
      }, 300);
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(
      JSON.stringify({
        type: 'hello',
        protocolVersion: PROTOCOL_VERSION,
        agentVersion: 'hostile',
        machineId: machineId(),
        capabilities: ['sql.query'],
        concurrency: 1024,
        databases: ['erp'],
      }),
    );
    await until('the welcome', () => welcomed);
    const queries = 6;
    for (let i = 0; i < queries; i += 1) {
      const res = await platform.api('POST', `/v1/tenants/${tenantId}/queries`, {
        connectorId: c.id,
        database: 'erp',
        sql: 'SELECT 1',
        wait: false,
      });
      expect(res.status).toBe(202);
    }
    await until(`all ${queries} tasks`, () => received >= queries && inFlight === 0, 60_000);
    expect(maxInFlight).toBeLessThanOrEqual(2);
    expect(maxInFlight).toBeGreaterThan(0);
    ws.close();
  });
});
