import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the SaaS APIs of issue 10's patterns (a CRM's contacts, a shop's orders) that the
 * tests cannot reach: a small real HTTP server with its own OpenAPI document (`/openapi.json`).
 * Contacts page by cursor (`next_cursor` in the body and a Link header), orders by page number;
 * writes honour Idempotency-Key; auth is a bearer token (or, for the "user's API on the site
 * network" variant, an API key header). Tests inject 429 (with Retry-After) and 5xx answers and
 * assert on the server's own request log, never on timings.
 */
export interface StandinOptions {
  /** Where the API lives under the server (`/v1` for the SaaS, `/erp/api` for a site's own API). */
  basePath?: string;
  auth: { kind: 'bearer'; token: string } | { kind: 'header'; name: string; value: string };
  contacts?: number;
  orders?: number;
}

export interface LoggedRequest {
  method: string;
  /** Path under the base path, with the query string. */
  path: string;
  idempotencyKey?: string;
  authorized: boolean;
  status: number;
  /** Retry-After the answer carried, when injected. */
  retryAfter?: string;
  /** Milliseconds since the server started (ordering only; tests never assert on timings). */
  at: number;
}

export interface Fault {
  method?: string;
  /** Path prefix under the base path, e.g. `/contacts`. */
  path: string;
  status: number;
  retryAfter?: string;
  /** How many matching requests get the fault (default 1). */
  times?: number;
  /**
   * A write is applied (and its idempotency key kept) before the fault answers: the answer is lost
   * after the work was done, the case idempotency keys exist for.
   */
  afterApply?: boolean;
}

export interface Contact {
  id: number;
  name: string;
  email: string;
  score: number;
  active: boolean;
  tags: string[];
}

export interface Standin {
  url: string;
  /** The API's base URL (url + basePath). */
  baseUrl: string;
  log: LoggedRequest[];
  /** Records written by POST /contacts (each idempotency key applied once). */
  created: Record<string, unknown>[];
  contacts: Contact[];
  inject(fault: Fault): void;
  close(): Promise<void>;
}

export function contactsOf(n: number): Contact[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    name: `Contact ${i + 1}`,
    email: `contact${i + 1}@example.test`,
    score: Math.round(((i * 37) % 1000) * 1.5) / 10,
    active: i % 3 !== 0,
    tags: i % 2 ? ['b2b'] : ['retail', 'vip'],
  }));
}

const openapi = (basePath: string, auth: StandinOptions['auth']) => ({
  openapi: '3.0.3',
  info: { title: 'Vansales stand-in SaaS', version: '1.0.0' },
  servers: [{ url: basePath }],
  components: {
    securitySchemes:
      auth.kind === 'bearer'
        ? { token: { type: 'http', scheme: 'bearer' } }
        : { token: { type: 'apiKey', in: 'header', name: auth.name } },
    schemas: {
      Contact: {
        type: 'object',
        required: ['id', 'name', 'email'],
        properties: {
          id: { type: 'integer' },
          name: { type: 'string' },
          email: { type: 'string' },
          score: { type: 'number' },
          active: { type: 'boolean' },
          tags: { type: 'array', items: { type: 'string' } },
        },
      },
      Order: {
        type: 'object',
        properties: { id: { type: 'integer' }, contactId: { type: 'integer' }, total: { type: 'number' } },
      },
    },
  },
  security: [{ token: [] }],
  paths: {
    '/contacts': {
      get: {
        operationId: 'listContacts',
        parameters: [
          { name: 'cursor', in: 'query', schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 500 } },
        ],
        responses: {
          '200': {
            description: 'A page of contacts; `next_cursor` (and a Link rel=next header) while more remain',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    data: { type: 'array', items: { $ref: '#/components/schemas/Contact' } },
                    next_cursor: { type: 'string', nullable: true },
                  },
                },
              },
            },
          },
          '429': { description: 'Too many requests; Retry-After says when to come back' },
        },
      },
      post: {
        operationId: 'createContact',
        parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string' } }],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                oneOf: [
                  { $ref: '#/components/schemas/Contact' },
                  { type: 'array', items: { $ref: '#/components/schemas/Contact' } },
                ],
              },
            },
          },
        },
        responses: { '201': { description: 'Created (a repeated Idempotency-Key answers the first result)' } },
      },
    },
    '/orders': {
      get: {
        operationId: 'listOrders',
        parameters: [{ name: 'page', in: 'query', schema: { type: 'integer', minimum: 1 } }],
        responses: { '200': { description: 'A page of orders (empty past the last)' } },
      },
    },
  },
});

const PAGE = 100;

export async function startStandin(options: StandinOptions): Promise<Standin> {
  const basePath = (options.basePath ?? '/v1').replace(/\/$/, '');
  const contacts = contactsOf(options.contacts ?? 1000);
  const orders = Array.from({ length: options.orders ?? 250 }, (_, i) => ({
    id: i + 1,
    contactId: (i % contacts.length) + 1,
    total: ((i * 113) % 10_000) / 100,
  }));
  const log: LoggedRequest[] = [];
  const faults: (Fault & { left: number })[] = [];
  const created: Record<string, unknown>[] = [];
  const seenKeys = new Map<string, { status: number; body: string }>();
  const started = Date.now();

  const authorized = (req: IncomingMessage) =>
    options.auth.kind === 'bearer'
      ? req.headers.authorization === `Bearer ${options.auth.token}`
      : req.headers[options.auth.name.toLowerCase()] === options.auth.value;

  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<LoggedRequest> => {
    const url = new URL(req.url ?? '/', 'http://standin');
    const path = url.pathname.startsWith(`${basePath}/`) ? url.pathname.slice(basePath.length) : undefined;
    const entry: LoggedRequest = {
      method: req.method ?? 'GET',
      path: `${path ?? url.pathname}${url.search}`,
      authorized: authorized(req),
      status: 0,
      at: Date.now() - started,
      ...(typeof req.headers['idempotency-key'] === 'string' ? { idempotencyKey: req.headers['idempotency-key'] } : {}),
    };
    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(json === undefined ? '' : JSON.stringify(json));
      return entry;
    };
    if (path === undefined) return send(404, { error: 'not found' });
    if (path === '/openapi.json') return send(200, openapi(basePath, options.auth));
    if (!entry.authorized) return send(401, { error: 'unauthorized' });
    const fault = faults.find((f) => f.left > 0 && path.startsWith(f.path) && (!f.method || f.method === req.method));
    if (fault && !fault.afterApply) {
      fault.left--;
      if (fault.retryAfter !== undefined) entry.retryAfter = fault.retryAfter;
      return send(
        fault.status,
        { error: 'injected' },
        fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {},
      );
    }
    if (path === '/contacts' && req.method === 'GET') {
      const limit = Math.min(500, Number(url.searchParams.get('limit') ?? PAGE) || PAGE);
      const from = Number(
        url.searchParams.get('cursor') ? Buffer.from(url.searchParams.get('cursor')!, 'base64url').toString() : 0,
      );
      const page = contacts.slice(from, from + limit);
      const next = from + limit < contacts.length ? Buffer.from(String(from + limit)).toString('base64url') : null;
      const link = next ? `<${basePath}/contacts?cursor=${next}&limit=${limit}>; rel="next"` : undefined;
      return send(200, { data: page, next_cursor: next }, link ? { link } : {});
    }
    if (path === '/contacts' && req.method === 'POST') {
      const key = entry.idempotencyKey;
      const previous = key ? seenKeys.get(key) : undefined;
      if (previous) {
        entry.status = previous.status;
        res.writeHead(previous.status, { 'content-type': 'application/json', 'idempotent-replayed': 'true' });
        res.end(previous.body);
        return entry;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return send(400, { error: 'body is not JSON' });
      }
      const records = Array.isArray(parsed) ? parsed : [parsed];
      created.push(...(records as Record<string, unknown>[]));
      const answer = { created: records.length };
      if (key) seenKeys.set(key, { status: 201, body: JSON.stringify(answer) });
      if (fault?.afterApply) {
        fault.left--;
        return send(fault.status, { error: 'injected after the write was applied' });
      }
      return send(201, answer);
    }
    if (path === '/orders' && req.method === 'GET') {
      const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
      return send(200, { orders: orders.slice((page - 1) * PAGE, page * PAGE), page });
    }
    return send(404, { error: 'not found' });
  };

  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      void handle(req, res, Buffer.concat(parts)).then((entry) => log.push(entry));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    baseUrl: `${url}${basePath}`,
    log,
    created,
    contacts,
    inject: (fault) => faults.push({ ...fault, left: fault.times ?? 1 }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
