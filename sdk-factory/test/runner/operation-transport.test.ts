import { DataflowError, encodeChunk, readHttp, writeHttp, type HttpSend } from '@vansales/dataflow';
import { buildOperationBundles } from '../../src/codegen';
import { ingestSpec } from '../../src/ingest';
import type { OperationManifest } from '../../src/manifest';
import { operationTransport, type ApiOperationHost, type OperationCallFacts } from '../../src/runner';
import type { CredentialProvider } from '../../src/sandbox';
import { startApi, testOperationHost } from '../sandbox/support';

// A definition's HTTP step that names an operation: the HTTP steps' own machinery (pages, records,
// batches, Idempotency-Key, retries) over a transport that runs each request through the operation's
// generated bundle in the sandbox, against a real local server.
const SPEC = `
openapi: 3.0.3
info: { title: Customers, version: '1' }
servers: [{ url: /v1 }]
security: [{ key: [] }]
components:
  securitySchemes: { key: { type: apiKey, in: header, name: X-Api-Key } }
  schemas:
    NewCustomer:
      type: object
      required: [name]
      properties: { name: { type: string }, store: { type: integer } }
paths:
  /stores/{store}/customers/{id}:
    get:
      operationId: getCustomer
      parameters:
        - { name: store, in: path, required: true, schema: { type: integer } }
        - { name: id, in: path, required: true, schema: { type: string } }
      responses: { '200': { description: ok, content: { application/json: { schema: { type: object } } } } }
  /customers:
    get:
      operationId: listCustomers
      parameters:
        - { name: limit, in: query, schema: { type: integer, maximum: 100 } }
        - { name: cursor, in: query, schema: { type: string } }
      responses: { '200': { description: ok, content: { application/json: { schema: { type: object } } } } }
    post:
      operationId: createCustomer
      requestBody:
        required: true
        content: { application/json: { schema: { $ref: '#/components/schemas/NewCustomer' } } }
      responses: { '201': { description: created } }
`;
const SECRET = 'k-0123456789-secret';
const CUSTOMERS = Array.from({ length: 5 }, (_, i) => ({ customer_id: i + 1, name: `c${i + 1}` }));

let manifest: OperationManifest;
let bundles: Map<string, string>;
let api: Awaited<ReturnType<typeof startApi>>;
let host: ApiOperationHost;
let busyOnce = true;
const provider: CredentialProvider = {
  credentialsFor: async (scheme) => (scheme === 'key' ? { headers: { 'x-api-key': SECRET } } : undefined),
};
const noWait = { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => undefined };

beforeAll(async () => {
  manifest = (await ingestSpec({ text: SPEC })).manifest;
  bundles = new Map((await buildOperationBundles(manifest)).map((b) => [b.key, b.bundle]));
  api = await startApi((req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(value));
    };
    if (req.headers['x-api-key'] !== SECRET) return json(401, { error: 'no key' });
    if (req.method === 'POST') {
      // The first write is answered 429 once: the step's retry (not the VM's) waits it out.
      if (busyOnce) {
        busyOnce = false;
        return json(429, { error: 'busy' }, { 'retry-after': '1' });
      }
      return json(201, { created: JSON.parse(body) as unknown });
    }
    if (url.pathname === '/v1/customers') {
      const limit = Number(url.searchParams.get('limit') ?? 2);
      const from = Number(url.searchParams.get('cursor') ?? 0);
      const page = CUSTOMERS.slice(from, from + limit);
      const next = from + limit < CUSTOMERS.length ? String(from + limit) : null;
      return json(200, { data: page, next_cursor: next });
    }
    return json(200, { url: req.url });
  });
  host = testOperationHost(api.port, provider, { 'inside.example': '10.0.0.7' });
});
afterAll(async () => api?.close());

const base = () => `http://erp.example:${api.port}/v1`;
const transport = (key: string, over: Partial<ApiOperationHost> = {}, onCall?: (f: OperationCallFacts) => void) =>
  operationTransport(
    { manifest, operationKey: key, bundle: bundles.get(key)!, serverUrl: base(), stepId: 'pull', onCall },
    { ...host, ...over },
  );

async function read(send: HttpSend, path: string, extra: Partial<Parameters<typeof readHttp>[0]> = {}) {
  const chunks: Buffer[] = [];
  const result = await readHttp(
    { method: 'GET', url: new URL(`${base()}${path}`), maxPages: 10, ...extra },
    { send, retry: noWait, sink: { put: async (_i, bytes) => void chunks.push(bytes), commit: async () => undefined } },
    () => undefined,
  );
  return { result, chunks };
}

const failure = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DataflowError);
  const { code, message, retryable } = err as DataflowError;
  return { code, message, retryable };
};

describe('operationTransport: HTTP steps through the operation bundle', () => {
  it('pages a list operation with the step’s own pagination, query coerced, the credential attached by the host', async () => {
    const calls: OperationCallFacts[] = [];
    const seen = api.seen.length;
    const { result } = await read(
      transport('listCustomers', {}, (f) => calls.push(f)),
      '/customers',
      {
        query: { limit: '2' },
        records: 'data',
        pagination: { kind: 'cursor', next: 'next_cursor', param: 'cursor' },
      },
    );
    expect(result).toMatchObject({ rowCount: 5, pages: 3 });
    expect(api.seen.slice(seen).map((r) => r.url)).toEqual([
      '/v1/customers?limit=2',
      '/v1/customers?limit=2&cursor=2',
      '/v1/customers?limit=2&cursor=4',
    ]);
    expect(api.seen.slice(seen).every((r) => r.headers['x-api-key'] === SECRET)).toBe(true);
    // One audit fact per call: status and sizes, no parameters or bodies.
    expect(calls).toHaveLength(3);
    expect(calls[0]).toEqual({
      status: 200,
      requestBytes: 0,
      responseBytes: expect.any(Number),
      durationMs: expect.any(Number),
    });
    expect(Object.keys(calls[0]!).sort()).toEqual(['durationMs', 'requestBytes', 'responseBytes', 'status']);
  });

  it('reads path parameters back from the URL against the path template', async () => {
    const { result } = await read(transport('getCustomer'), '/stores/3/customers/a%20b');
    expect(result.rowCount).toBe(1);
    expect(api.seen.at(-1)?.url).toBe('/v1/stores/3/customers/a%20b');
  });

  it('writes records as the operation’s body, Idempotency-Key passed, a 429 left to the step’s retry', async () => {
    const objectId = 'o1';
    const rows = [
      [1, 'Ada'],
      [2, 'Bo'],
    ];
    const seen = api.seen.length;
    const result = await writeHttp(
      { method: 'POST', url: new URL(`${base()}/customers`), batchSize: 1, idempotencyKey: 'id' },
      {
        send: transport('createCustomer'),
        retry: noWait,
        source: {
          objectId,
          manifest: async () => ({
            schema: {
              columns: [
                { name: 'id', type: { kind: 'integer', bits: 32 }, nullable: false, nativeType: 'int' },
                { name: 'name', type: { kind: 'text' }, nullable: false, nativeType: 'text' },
              ],
              keyColumns: ['id'],
            },
            chunkCount: 1,
            rowCount: 2,
          }),
          chunk: async () => encodeChunk(rows),
        },
      },
      () => undefined,
    );
    expect(result).toEqual({ requests: 2, records: 2, retried: 1 });
    const posts = api.seen.slice(seen);
    expect(posts.map((p) => [p.headers['idempotency-key'], JSON.parse(p.body)])).toEqual([
      ['1', { id: 1, name: 'Ada' }],
      ['1', { id: 1, name: 'Ada' }],
      ['2', { id: 2, name: 'Bo' }],
    ]);
    expect(posts.every((p) => p.headers['content-type'] === 'application/json')).toBe(true);
  });

  it('refuses a request the operation’s schemas refuse, naming the step, before anything is sent', async () => {
    const seen = api.seen.length;
    const send = transport('createCustomer');
    const post = (body: unknown) =>
      send({
        method: 'POST',
        url: new URL(`${base()}/customers`),
        headers: {},
        body: Buffer.from(JSON.stringify(body)),
      });
    expect(await failure(post({ store: 1 }))).toEqual({
      code: 'BAD_REQUEST',
      retryable: false,
      message:
        "step pull: operation createCustomer (POST /customers) refuses the request: body must have required property 'name'",
    });
    expect((await failure(post({ name: 'x', store: 'main' }))).message).toMatch(/body\/store must be integer/);
    expect(
      (await failure(read(transport('listCustomers'), '/customers', { query: { limit: '500' } }))).message,
    ).toMatch(/^step pull: operation listCustomers .* refuses the request: request\/query\/limit must be <= 100/);
    expect((await failure(read(transport('getCustomer'), '/stores/main/customers/1'))).message).toMatch(
      /request\/path\/store must be integer/,
    );
    expect(api.seen.length).toBe(seen);
  });

  it('refuses what the operation does not declare: an unknown operation, another method, path or query parameter', async () => {
    const seen = api.seen.length;
    expect(() => transport('dropTables')).toThrow('step pull: the API has no operation "dropTables"');
    expect((await failure(read(transport('createCustomer'), '/customers'))).message).toBe(
      "step pull: operation createCustomer (POST /customers) is not called with GET: set the step's method to POST",
    );
    expect((await failure(read(transport('listCustomers'), '/orders'))).message).toBe(
      'step pull: the path /v1/orders is not operation listCustomers (GET /customers) under /v1',
    );
    expect((await failure(read(transport('listCustomers'), '/customers', { query: { sort: 'name' } }))).message).toBe(
      'step pull: "sort" is not a query parameter of operation listCustomers (GET /customers)',
    );
    expect(api.seen.length).toBe(seen);
  });

  it('keeps the egress guard’s refusals: a host off the allowlist, a private address on the cloud side', async () => {
    const seen = api.seen.length;
    const offList = await failure(
      read(
        transport('listCustomers', { egress: { ...host.egress, allow: [{ host: 'other.example' }] } }),
        '/customers',
      ),
    );
    expect(offList).toMatchObject({ code: 'HTTP_REFUSED', retryable: false });
    expect(offList.message).toMatch(/erp\.example is not on the egress allowlist/);
    const inside = operationTransport(
      {
        manifest,
        operationKey: 'listCustomers',
        bundle: bundles.get('listCustomers')!,
        serverUrl: `http://inside.example:${api.port}/v1`,
        stepId: 'pull',
      },
      {
        ...host,
        egress: { ...host.egress, allowPrivate: false, allow: [{ host: 'inside.example', ports: [api.port] }] },
      },
    );
    const refused = await failure(
      readHttp(
        { method: 'GET', url: new URL(`http://inside.example:${api.port}/v1/customers`), maxPages: 1 },
        { send: inside, retry: noWait, sink: { put: async () => undefined, commit: async () => undefined } },
        () => undefined,
      ),
    );
    expect(refused).toMatchObject({ code: 'HTTP_REFUSED', retryable: false });
    // Refused for its private address, without naming it (a tenant learns nothing of the cloud's DNS).
    expect(refused.message).toMatch(/inside\.example resolves to an address that is a private/);
    expect(refused.message).not.toMatch(/10\.0\.0\.7/);
    expect(api.seen.length).toBe(seen);
  });

  it('names a missing credential as the step’s failure, not retried', async () => {
    const none: CredentialProvider = { credentialsFor: async () => undefined };
    const err = await failure(read(transport('listCustomers', { credentials: none }), '/customers'));
    expect(err).toMatchObject({ code: 'HTTP_REFUSED', retryable: false });
    expect(err.message).toMatch(
      /^step pull: operation listCustomers: no credential is configured for the security scheme "key"/,
    );
  });
});
