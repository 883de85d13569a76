import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createConnection, createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { Client as PgClient } from 'pg';
import type { DefinitionDocumentInput, HttpEndpoint } from '@vansales/definitions';

/**
 * The seed's Mode 2 example (issue 11 item 6): an API a customer builds on their own network to expose
 * only what they choose of their ERP, here over the site's Sakila database. A real HTTP server with its
 * own OpenAPI document at `/openapi.json`, reached by the agent on the site (and, in the same test, at an
 * "internet" address by the cloud worker).
 *
 * `version` 2 is the same API after its owner changed it: `/api/sales/summary` is gone and `store_id`
 * became a required parameter of `/api/customers/active`, two breaking changes the SDK factory must flag.
 */
export interface SakilaUserApiOptions {
  /** A MariaDB login that can read Sakila (the API's own account on the ERP). */
  database: { host: string; port: number; user: string; password: string };
  /** The key clients send in `X-Api-Key`. */
  apiKey: string;
  version?: 1 | 2;
}

export interface SakilaUserApi {
  url: string;
  /** Requests served so far (method, path with query, status): tests assert on what really reached the API. */
  log: { method: string; path: string; status: number; authorized: boolean }[];
  /** Switches the running server to another version of the API (the owner deploys a change). */
  setVersion(version: 1 | 2): void;
  close(): Promise<void>;
}

export const SAKILA_USER_API_KEY_HEADER = 'x-api-key';
const MAX_LIMIT = 500;

const customerSchema = {
  type: 'object',
  required: ['customer_id', 'store_id', 'first_name', 'last_name'],
  properties: {
    customer_id: { type: 'integer' },
    store_id: { type: 'integer' },
    first_name: { type: 'string' },
    last_name: { type: 'string' },
    email: { type: 'string', nullable: true },
    create_date: { type: 'string', format: 'date-time' },
  },
};

/** The API's OpenAPI document as its owner publishes it, for each version. */
export function sakilaUserApiDocument(version: 1 | 2): Record<string, unknown> {
  const storeParam = {
    name: 'store_id',
    in: 'query',
    required: version === 2,
    description: 'Only customers of this store',
    schema: { type: 'integer', minimum: 1 },
  };
  const paths: Record<string, unknown> = {
    '/api/customers/active': {
      get: {
        operationId: 'listActiveCustomers',
        summary: 'Active customers, by customer id',
        parameters: [
          storeParam,
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 100 } },
          { name: 'cursor', in: 'query', description: 'next_cursor of the previous page', schema: { type: 'string' } },
        ],
        responses: {
          '200': {
            description: 'A page of active customers; next_cursor is null on the last page',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['data', 'next_cursor'],
                  properties: {
                    data: { type: 'array', items: { $ref: '#/components/schemas/Customer' } },
                    next_cursor: { type: 'string', nullable: true },
                  },
                },
              },
            },
          },
          '400': { description: 'A parameter is missing or invalid' },
          '401': { description: 'No or a wrong X-Api-Key' },
        },
      },
    },
  };
  if (version === 1)
    paths['/api/sales/summary'] = {
      get: {
        operationId: 'getSalesSummary',
        summary: 'Payments per store',
        parameters: [
          { name: 'from', in: 'query', schema: { type: 'string', format: 'date' } },
          { name: 'to', in: 'query', schema: { type: 'string', format: 'date' } },
        ],
        responses: {
          '200': {
            description: 'One row per store',
            content: {
              'application/json': {
                schema: { type: 'array', items: { $ref: '#/components/schemas/StoreSales' } },
              },
            },
          },
          '401': { description: 'No or a wrong X-Api-Key' },
        },
      },
    };
  return {
    openapi: '3.0.3',
    info: { title: 'Sakila ERP API', version: `${version}.0.0` },
    servers: [{ url: '/' }],
    security: [{ apiKey: [] }],
    components: {
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' } },
      schemas: {
        Customer: customerSchema,
        StoreSales: {
          type: 'object',
          required: ['store_id', 'payments', 'total'],
          properties: {
            store_id: { type: 'integer' },
            payments: { type: 'integer' },
            total: { type: 'string', description: 'DECIMAL as text: no digits lost' },
          },
        },
      },
    },
    paths,
  };
}

class BadRequest extends Error {}

function intParam(url: URL, name: string, opts: { required: boolean; min: number; max?: number }): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') {
    if (opts.required) throw new BadRequest(`${name} is required`);
    return undefined;
  }
  if (!/^\d{1,9}$/.test(raw)) throw new BadRequest(`${name} must be a whole number`);
  const n = Number(raw);
  if (n < opts.min || (opts.max !== undefined && n > opts.max))
    throw new BadRequest(`${name} must be between ${opts.min} and ${opts.max ?? 'any'}`);
  return n;
}

function dateParam(url: URL, name: string): string | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw)) throw new BadRequest(`${name} must be a date (YYYY-MM-DD)`);
  return raw;
}

async function activeCustomers(pool: Pool, url: URL, version: 1 | 2) {
  const storeId = intParam(url, 'store_id', { required: version === 2, min: 1 });
  const limit = intParam(url, 'limit', { required: false, min: 1, max: MAX_LIMIT }) ?? 100;
  const cursorText = url.searchParams.get('cursor');
  if (cursorText !== null && !/^\d{1,9}$/.test(cursorText)) throw new BadRequest('cursor is not one this API gave');
  const after = cursorText === null ? 0 : Number(cursorText);
  const where = ['active = 1', 'customer_id > ?'];
  const args: unknown[] = [after];
  if (storeId !== undefined) {
    where.push('store_id = ?');
    args.push(storeId);
  }
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT customer_id, store_id, first_name, last_name, email, create_date FROM customer
     WHERE ${where.join(' AND ')} ORDER BY customer_id LIMIT ${limit + 1}`,
    args,
  );
  const page = rows.slice(0, limit);
  const more = rows.length > limit;
  return { data: page, next_cursor: more ? String(page[page.length - 1]?.customer_id) : null };
}

async function salesSummary(pool: Pool, url: URL) {
  const from = dateParam(url, 'from');
  const to = dateParam(url, 'to');
  const where: string[] = [];
  const args: unknown[] = [];
  if (from) {
    where.push('p.payment_date >= ?');
    args.push(from);
  }
  if (to) {
    where.push('p.payment_date < ?');
    args.push(to);
  }
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT s.store_id, COUNT(*) AS payments, CAST(SUM(p.amount) AS CHAR) AS total
     FROM payment p JOIN staff s ON s.staff_id = p.staff_id
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''} GROUP BY s.store_id ORDER BY s.store_id`,
    args,
  );
  return rows.map((r) => ({ store_id: Number(r.store_id), payments: Number(r.payments), total: String(r.total) }));
}

function keyMatches(sent: string | string[] | undefined, expected: string): boolean {
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startSakilaUserApi(options: SakilaUserApiOptions): Promise<SakilaUserApi> {
  let version = options.version ?? 1;
  const pool = createPool({
    ...options.database,
    database: 'sakila',
    connectionLimit: 4,
    dateStrings: true,
    decimalNumbers: false,
  });
  const log: SakilaUserApi['log'] = [];

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://api.local');
    const authorized = keyMatches(req.headers[SAKILA_USER_API_KEY_HEADER], options.apiKey);
    const entry = { method: req.method ?? 'GET', path: `${url.pathname}${url.search}`, status: 0, authorized };
    log.push(entry);
    const reply = (status: number, body: unknown) => {
      entry.status = status;
      send(res, status, body);
    };
    if (req.method !== 'GET') return reply(405, { error: 'only GET is served' });
    if (url.pathname === '/openapi.json') return reply(200, sakilaUserApiDocument(version));
    if (!authorized) return reply(401, { error: 'send the API key in X-Api-Key' });
    try {
      if (url.pathname === '/api/customers/active') return reply(200, await activeCustomers(pool, url, version));
      if (url.pathname === '/api/sales/summary' && version === 1) return reply(200, await salesSummary(pool, url));
      return reply(404, { error: `no such endpoint: ${url.pathname}` });
    } catch (err) {
      if (err instanceof BadRequest) return reply(400, { error: err.message });
      return reply(500, { error: 'the ERP database did not answer' });
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    setVersion: (v) => {
      version = v;
    },
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}

/** The columns of the API's customer records that a load keeps, in the order they are compared. */
const ACTIVE_CUSTOMER_COLUMNS = ['customer_id', 'store_id', 'first_name', 'last_name', 'email'];

/**
 * Sakila's active customers (of one store, when given) beside what a run loaded into a PostgreSQL
 * table: row counts and a sha256 of each side's rows as text, in customer id order.
 */
export async function activeCustomersBeside(
  sakila: { host: string; port: number; user: string; password: string },
  pgUrl: string,
  table: string,
  storeId?: number,
): Promise<{ source: number; copied: number; sourceDigest: string; copiedDigest: string }> {
  const columns = ACTIVE_CUSTOMER_COLUMNS.join(', ');
  const reader = await createConnection({ ...sakila, database: 'sakila' });
  const [source] = await reader.query<RowDataPacket[]>(
    `SELECT ${columns} FROM customer WHERE active = 1 ${storeId ? 'AND store_id = ?' : ''} ORDER BY customer_id`,
    storeId ? [storeId] : [],
  );
  await reader.end();
  const pg = new PgClient({ connectionString: pgUrl });
  await pg.connect();
  const copied = (await pg.query(`SELECT ${columns} FROM ${table} ORDER BY customer_id`)).rows as Record<
    string,
    unknown
  >[];
  await pg.end();
  const digest = (rows: Record<string, unknown>[]) =>
    createHash('sha256')
      .update(
        JSON.stringify(rows.map((r) => ACTIVE_CUSTOMER_COLUMNS.map((c) => (r[c] === null ? null : String(r[c]))))),
      )
      .digest('hex');
  return {
    source: source.length,
    copied: copied.length,
    sourceDigest: digest(source),
    copiedDigest: digest(copied),
  };
}

/**
 * A definition that pulls every page of `listActiveCustomers` (version `version` of `apiId`) into the
 * cloud database `dw`'s `table`, keyed by customer id. Without `endpoint` the step is routed by the
 * API's accessibility.
 */
export function activeCustomersDefinition(options: {
  apiId: string;
  version: number;
  table: string;
  query: Record<string, string>;
  endpoint?: HttpEndpoint;
}): DefinitionDocumentInput {
  const { apiId, version, table, query, endpoint } = options;
  return {
    format: 'vansales.definition/v1',
    name: `Active customers via ${apiId} v${version}`,
    steps: [
      {
        id: 'pull',
        kind: 'source',
        http: {
          ...(endpoint ? { endpoint } : {}),
          operation: { apiId, version, key: 'listActiveCustomers' },
          path: '/api/customers/active',
          query,
          records: 'data',
          pagination: { kind: 'cursor', next: 'next_cursor', param: 'cursor' },
        },
        onError: { retry: { maximumAttempts: 2, initialInterval: '1s' } },
      },
      {
        id: 'load',
        kind: 'destination',
        db: {
          endpoint: { kind: 'cloud-db', database: 'dw' },
          table: { name: table },
          keyColumns: ['customer_id'],
          createIfMissing: true,
        },
      },
    ],
    edges: [{ from: 'pull', to: 'load' }],
  };
}
