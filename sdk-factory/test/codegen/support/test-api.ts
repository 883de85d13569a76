// A local HTTP server standing in for an internet API: rate limits with Retry-After (seconds and
// HTTP-date), 409s and 503s, a response that never comes, an echo, and every pagination kind over 25 items.
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FIXED_NOW = Date.parse('2026-01-01T00:00:00Z');
export const ITEMS = Array.from({ length: 25 }, (_, index) => ({ id: index + 1 }));

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

function route(request: IncomingMessage, response: ServerResponse, baseUrl: string, hits: Map<string, number>): void {
  const url = new URL(request.url ?? '/', baseUrl);
  const count = (hits.get(url.pathname) ?? 0) + 1;
  hits.set(url.pathname, count);
  const query = url.searchParams;
  switch (url.pathname) {
    case '/retry-after-seconds':
      return count === 1
        ? json(response, 429, { error: 'slow down' }, { 'retry-after': '2' })
        : json(response, 200, { ok: true });
    case '/retry-after-date':
      return count === 1
        ? json(response, 503, {}, { 'retry-after': new Date(FIXED_NOW + 5_000).toUTCString() })
        : json(response, 200, { ok: true });
    case '/conflict-then-ok':
      return count < 3 ? json(response, 409, { error: 'busy' }) : json(response, 200, { ok: count });
    case '/always-503':
      return json(response, 503, { error: 'down' });
    case '/retry-after-hour':
      return json(response, 429, { error: 'quota' }, { 'retry-after': '3600' });
    case '/missing':
      return json(response, 404, { message: 'no such pet' });
    case '/slow':
      return; // never answers: the client's timeout must end the call
    case '/echo': {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => json(response, 201, { url: request.url, headers: request.headers, body }));
      return;
    }
    case '/cursor': {
      const start = Number(query.get('cursor') ?? 0);
      const data = ITEMS.slice(start, start + 10);
      return json(response, 200, { data, meta: { next: start + 10 < ITEMS.length ? String(start + 10) : null } });
    }
    case '/offset': {
      const offset = Number(query.get('offset') ?? 0);
      const limit = Number(query.get('limit') ?? 10);
      return json(response, 200, { items: ITEMS.slice(offset, offset + limit) });
    }
    case '/page': {
      const page = Number(query.get('page') ?? 1);
      return json(response, 200, ITEMS.slice((page - 1) * 10, page * 10));
    }
    case '/link': {
      const page = Number(query.get('page') ?? 1);
      const link: Record<string, string> =
        page * 10 < ITEMS.length
          ? { link: `<${baseUrl}/link?page=${page + 1}>; rel="next", <${baseUrl}/link?page=3>; rel="last"` }
          : {};
      return json(response, 200, ITEMS.slice((page - 1) * 10, page * 10), link);
    }
    default:
      return json(response, 500, { error: `no route ${url.pathname}` });
  }
}

export interface TestApi {
  readonly baseUrl: string;
  /** Requests per path since the last clear. */
  readonly hits: Map<string, number>;
  close(): Promise<void>;
}

export async function startTestApi(): Promise<TestApi> {
  const hits = new Map<string, number>();
  let baseUrl = '';
  const server = createServer((request, response) => route(request, response, baseUrl, hits));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    hits,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
