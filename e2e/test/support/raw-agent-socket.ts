import WebSocket from 'ws';
import { PROTOCOL_VERSION, type HelloFrame } from '@vansales/protocol';
import type { Platform } from './harness';

/**
 * A raw agent socket past hello and welcome (the real challenge-signed connect of `machine`), for
 * tests that say exactly what an agent sends: it collects every frame the gateway sends and its
 * protocol errors. `hello` overrides fields of the hello (a platform, another version…).
 */
export async function welcomedSocket(
  platform: Platform,
  apiKey: string,
  machine: string,
  hello: Partial<HelloFrame> = {},
): Promise<{ ws: WebSocket; errors: string[]; frames: { type: string; [key: string]: unknown }[] }> {
  const ws = new WebSocket(platform.gatewayWsUrl, { headers: await platform.agentHeaders(apiKey, machine) });
  const errors: string[] = [];
  const frames: { type: string; [key: string]: unknown }[] = [];
  const welcomed = new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as { type: string; code?: string };
      frames.push(frame);
      if (frame.type === 'welcome') resolve();
      if (frame.type === 'protocol-error') errors.push(frame.code ?? '');
    });
    ws.on('close', (code) => reject(new Error(`closed with ${code} before the welcome`)));
  });
  await new Promise<void>((resolve) => ws.once('open', () => resolve()));
  ws.send(
    JSON.stringify({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      agentVersion: 'raw',
      machineId: machine,
      capabilities: ['agent.ping'],
      concurrency: 1,
      databases: [],
      ...hello,
    }),
  );
  await welcomed;
  return { ws, errors, frames };
}
