import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { Server } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { AGENT_CHALLENGE_PATH, generateAgentKeyPair, generateApiKey } from '@vansales/protocol';
import { Agent, parseAgentConfig, type AgentOptions } from '@vansales/connector-agent';

/** A logger whose lines the test reads. */
export function capture(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write: (c: Buffer, _e, done) => (lines.push(...c.toString().split('\n').filter(Boolean)), done()),
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

export function listen(server: Server | WebSocketServer): Promise<number> {
  return new Promise((resolve) => {
    if (server instanceof WebSocketServer)
      server.on('listening', () => resolve((server.address() as { port: number }).port));
    else server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

export async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** An agent of a throwaway key for the gateway on `port`. */
export const agentFor = (port: number, log: pino.Logger, options: Partial<AgentOptions> = {}) =>
  new Agent({
    config: parseAgentConfig({
      gatewayUrl: `ws://127.0.0.1:${port}/v1/agent/connect`,
      apiKey: generateApiKey('acme'),
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
      identityKey: generateAgentKeyPair().privateKeyPem,
    }),
    operations: {},
    log,
    ...options,
  });

/** A challenge any peer can hand out (it checks no proof). */
export const challengeBody = () =>
  JSON.stringify({
    challengeId: 'c'.repeat(24),
    nonce: 'n'.repeat(43),
    tenantId: 'acme',
    connectorId: 'some-connector',
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
    enrolled: true,
  });

/**
 * A peer that hands out a challenge (any will do: it checks no proof) and accepts the WebSocket;
 * `onConnection` speaks for the gateway. Every frame the agent sends is in `received`.
 */
export async function fakeGateway(onConnection: (ws: WebSocket) => void): Promise<{
  port: number;
  received: { type: string; code?: string; taskId?: string; errorType?: string }[];
  close(): void;
}> {
  const http: HttpServer = createHttpServer((req, res) => {
    if (req.method !== 'POST' || req.url !== AGENT_CHALLENGE_PATH) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(challengeBody());
  });
  const port = await listen(http);
  const wss = new WebSocketServer({ server: http });
  const received: { type: string; code?: string; taskId?: string; errorType?: string }[] = [];
  wss.on('connection', (ws) => {
    ws.on('message', (d) => received.push(JSON.parse(d.toString())));
    onConnection(ws);
  });
  return {
    port,
    received,
    close() {
      wss.close();
      http.close();
    },
  };
}
