import { createServer, type IncomingMessage, type Server } from 'node:http';
import { AgentErrorType, BufferHeader, bufferPaths, type BufferGrant } from '@vansales/protocol';
import { createBufferClient } from '../src/buffer/buffer-client';

/** A stand-in gateway that records what the client asked and answers what the test says. */
async function standIn(
  answer: (req: IncomingMessage, body: Buffer) => { status: number; body: string; headers?: Record<string, string> },
) {
  const seen: { method?: string; url?: string; headers: IncomingMessage['headers']; body: Buffer }[] = [];
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      const out = answer(req, body);
      res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers }).end(out.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    seen,
    client: createBufferClient({ gatewayUrl: `ws://127.0.0.1:${port}/v1/agent/connect` }),
    close: () => new Promise((r) => server.close(r)),
  };
}

const grant: BufferGrant = {
  objectId: 'object-0001',
  token: 'vbt_'.padEnd(40, 'x'),
  scope: 'write',
  expiresAt: new Date(Date.now() + 60_000).toISOString(),
};

describe("the agent's buffer client speaks the protocol's buffer contract", () => {
  it('waits the Retry-After of a 429 (quota, throttle) and tries again, instead of failing the task', async () => {
    const at: number[] = [];
    const gw = await standIn(() => {
      at.push(Date.now());
      return at.length === 1
        ? {
            status: 429,
            headers: { 'retry-after': '2' },
            body: JSON.stringify({ error: { code: 'QUOTA_EXCEEDED', message: 'buffer quota' } }),
          }
        : { status: 200, body: '{}' };
    });
    try {
      await gw.client.putChunk(grant, 0, Buffer.from('bytes'), 1);
      expect(at).toHaveLength(2);
      expect((at[1] as number) - (at[0] as number)).toBeGreaterThanOrEqual(2000);
    } finally {
      await gw.close();
    }
  });

  it('fails a 429 at once, retryably, when its Retry-After is past what a task waits', async () => {
    const gw = await standIn(() => ({ status: 429, headers: { 'retry-after': '3600' }, body: '{}' }));
    try {
      await expect(gw.client.putChunk(grant, 0, Buffer.from('bytes'), 1)).rejects.toMatchObject({ retryable: true });
      expect(gw.seen).toHaveLength(1);
    } finally {
      await gw.close();
    }
  });

  it('puts a chunk at the contract path with the rows header and the grant as bearer token', async () => {
    const gw = await standIn(() => ({ status: 200, body: '{}' }));
    try {
      await gw.client.putChunk(grant, 3, Buffer.from('bytes'), 7);
      expect(gw.seen).toEqual([
        expect.objectContaining({
          method: 'PUT',
          url: bufferPaths.chunk(grant.objectId, 3),
          body: Buffer.from('bytes'),
          headers: expect.objectContaining({ [BufferHeader.rows]: '7', authorization: `Bearer ${grant.token}` }),
        }),
      ]);
    } finally {
      await gw.close();
    }
  });

  it('refuses a manifest that does not match the contract, for good', async () => {
    const gw = await standIn(() => ({
      status: 200,
      body: JSON.stringify({ objectId: grant.objectId, rowCount: 'many' }),
    }));
    try {
      await expect(gw.client.manifest(grant)).rejects.toMatchObject({
        type: AgentErrorType.bufferRefused,
        retryable: false,
        message: expect.stringMatching(/malformed manifest/),
      });
      expect(gw.seen[0]?.url).toBe(bufferPaths.manifest(grant.objectId));
    } finally {
      await gw.close();
    }
  });

  it('reads a committed manifest back as absent while the object is not there or not committed, and fails on other refusals', async () => {
    const answers = [
      { status: 404, body: JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no buffer object' } }) },
      { status: 409, body: JSON.stringify({ error: { code: 'NOT_COMMITTED', message: 'not committed yet' } }) },
      { status: 403, body: JSON.stringify({ error: { code: 'FORBIDDEN', message: 'another object' } }) },
    ];
    const gw = await standIn(() => answers.shift()!);
    try {
      const read = { ...grant, scope: 'read' as const };
      expect(await gw.client.committedManifest(read)).toBeUndefined();
      expect(await gw.client.committedManifest(read)).toBeUndefined();
      await expect(gw.client.committedManifest(read)).rejects.toMatchObject({
        type: AgentErrorType.bufferRefused,
        code: 'FORBIDDEN',
        message: expect.stringContaining('buffer answered 403'),
      });
    } finally {
      await gw.close();
    }
  });
});
