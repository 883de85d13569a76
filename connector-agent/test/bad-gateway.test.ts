import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { agentFor, capture, challengeBody, fakeGateway, listen, until } from './fake-gateway';

describe('the agent facing a gateway that is down or answers garbage', () => {
  it('says it cannot reach a gateway that is down, and keeps retrying', async () => {
    const probe = createServer();
    const port = await listen(probe);
    await new Promise((r) => probe.close(r));
    const { log, lines } = capture();
    const agent = agentFor(port, log);
    agent.start();
    await until(() => lines.filter((l) => /reconnecting in/.test(l)).length >= 3);
    expect(lines.join('\n')).toContain(
      `cannot reach the gateway at ws://127.0.0.1:${port}/v1/agent/connect: ECONNREFUSED`,
    );
    await agent.stop();
    await expect(agent.done).resolves.toEqual({ code: 'stopped', message: 'stopped' });
  });

  it('survives a server that answers the upgrade with garbage bytes', async () => {
    const server = createServer((socket) => socket.end('\x00\xffGARBAGE\r\n\r\n'));
    const port = await listen(server);
    const { log, lines } = capture();
    const agent = agentFor(port, log);
    agent.start();
    await until(() => lines.filter((l) => /reconnecting in/.test(l)).length >= 2);
    expect(lines.join('\n')).toMatch(
      /cannot reach the gateway at ws:\/\/127\.0\.0\.1:\d+\/v1\/agent\/connect: (HPE_|Parse Error|socket hang up)/,
    );
    await agent.stop();
    server.close();
  });

  it('answers garbage frames from a WebSocket peer with protocol errors, and fails an unreadable task at once', async () => {
    const { port, received, close } = await fakeGateway((ws) => {
      ws.send('not json at all');
      ws.send(JSON.stringify({ type: 'self-destruct' }));
      ws.send(JSON.stringify({ type: 'task', taskId: 't-1', operation: 'format-disk', input: {}, context: {} }));
    });
    const { log } = capture();
    const agent = agentFor(port, log);
    agent.start();
    await until(
      () =>
        received.filter((f) => f.type === 'protocol-error').length === 3 && received.some((f) => f.type === 'failure'),
    );
    expect(received.filter((f) => f.type === 'protocol-error').map((f) => f.code)).toEqual([
      'malformed-json',
      'invalid-frame',
      'invalid-frame',
    ]);
    expect(received.find((f) => f.type === 'failure')).toMatchObject({ taskId: 't-1', errorType: 'BadInput' });
    await agent.stop();
    close();
  });
});

describe('the agent honours Retry-After from the gateway', () => {
  it('waits at least the seconds a 429 on the challenge asks for before asking again', async () => {
    const asked: number[] = [];
    const http = createHttpServer((req, res) => {
      asked.push(Date.now());
      res.writeHead(429, { 'retry-after': '2', 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'TOO_MANY_REQUESTS', message: 'too many failed authentications' } }));
    });
    const port = await listen(http);
    const { log } = capture();
    const agent = agentFor(port, log);
    agent.start();
    await until(() => asked.length >= 2);
    await agent.stop();
    http.close();
    // Without Retry-After the backoff here is 20-100 ms.
    expect((asked[1] as number) - (asked[0] as number)).toBeGreaterThanOrEqual(2000);
  });

  it('waits until the HTTP date a 503 on the upgrade names before dialling again', async () => {
    const upgrades: number[] = [];
    const http = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(challengeBody());
    });
    let comeBack = 0;
    http.on('upgrade', (_req, socket) => {
      upgrades.push(Date.now());
      // Whole seconds, as HTTP dates have: at least 2 s from now.
      comeBack = (Math.floor(Date.now() / 1000) + 3) * 1000;
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${new Date(comeBack).toUTCString()}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
      );
    });
    const port = await listen(http);
    const { log } = capture();
    const agent = agentFor(port, log);
    agent.start();
    await until(() => upgrades.length >= 2);
    await agent.stop();
    http.close();
    expect((upgrades[1] as number) - (upgrades[0] as number)).toBeGreaterThanOrEqual(2000);
  });
});
