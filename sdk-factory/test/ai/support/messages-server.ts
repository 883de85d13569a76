import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A local server that speaks the Anthropic Messages API (`POST /v1/messages`) with recorded answers,
 * for tests: the SDK's base URL points here. Each recording names substrings the request's user message
 * must contain and the answer to give (a Messages API response body, or an error status). Every request
 * is kept whole, so tests assert on what would have left for the model.
 */
export interface Recording {
  name: string;
  match: string[];
  status?: number;
  response?: Record<string, unknown>;
}

export interface SeenRequest {
  headers: IncomingMessage['headers'];
  body: { model: string; max_tokens: number; system?: string; messages: { role: string; content: string }[] };
  /** The whole body as sent, for "nothing secret left" assertions. */
  raw: string;
}

export interface MessagesServer {
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

export function loadRecordings(dir: string): Recording[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f, ...(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Omit<Recording, 'name'>) }));
}

export async function startMessagesServer(options: {
  apiKey: string;
  recordings: Recording[];
}): Promise<MessagesServer> {
  const requests: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_test_${requests.length}` });
        res.end(JSON.stringify(body));
      };
      const error = (status: number, type: string, message: string) =>
        reply(status, { type: 'error', error: { type, message } });
      if (req.method !== 'POST' || req.url !== '/v1/messages') return error(404, 'not_found_error', 'Not found');
      // The SDK sends its key as `x-api-key` or, in newer versions, as a bearer token.
      const key = req.headers['x-api-key'] ?? req.headers.authorization?.replace(/^Bearer /, '');
      if (key !== options.apiKey) return error(401, 'authentication_error', 'invalid API key');
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = JSON.parse(raw) as SeenRequest['body'];
      requests.push({ headers: req.headers, body, raw });
      const user = body.messages.map((m) => m.content).join('\n');
      const recording = options.recordings.find((r) => r.match.every((m) => user.includes(m)));
      if (!recording) return error(400, 'invalid_request_error', 'no recording matches this request');
      if (recording.status && recording.status >= 400)
        return error(recording.status, recording.status === 529 ? 'overloaded_error' : 'api_error', 'recorded failure');
      reply(200, { ...recording.response, model: body.model });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
