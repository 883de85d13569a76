import { generateSdk } from '../../src/codegen';
import { ingestSpec } from '../../src/ingest';
import { runApiOperation, type ApiOperationHost } from '../../src/runner';
import type { CredentialProvider } from '../../src/sandbox';
import type { OperationManifest } from '../../src/manifest';
import { outcome, startApi, testOperationHost } from '../sandbox/support';

// An operation generated from a specification runs in the sandbox against a real local server: the
// same path a definition step takes on an agent or a cloud worker.
const SPEC = `
openapi: 3.0.3
info: { title: Customers, version: '1' }
servers: [{ url: /v1 }]
security: [{ key: [] }]
components:
  securitySchemes: { key: { type: apiKey, in: header, name: X-Api-Key } }
paths:
  /customers/{id}:
    get:
      operationId: getCustomer
      parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
      responses: { '200': { description: ok, content: { application/json: { schema: { type: object } } } } }
  /customers:
    get:
      operationId: listCustomers
      security: []
      parameters: [{ name: limit, in: query, schema: { type: integer } }]
      responses: { '200': { description: ok } }
`;
const SECRET = 'k-0123456789-secret';

let manifest: OperationManifest;
let bundles: Map<string, string>;
let api: Awaited<ReturnType<typeof startApi>>;
let host: ApiOperationHost;
const seenByProvider: string[] = [];
const provider: CredentialProvider = {
  credentialsFor: async (scheme, request) => {
    seenByProvider.push(`${scheme} ${request.method} ${request.url.pathname}`);
    return scheme === 'key' ? { headers: { 'x-api-key': SECRET } } : undefined;
  },
};

beforeAll(async () => {
  manifest = (await ingestSpec({ text: SPEC })).manifest;
  const sdk = await generateSdk(manifest, { bundle: true });
  bundles = new Map(sdk.operations.map((o) => [o.key, o.bundle!]));
  api = await startApi((req, res) => {
    const status = req.url?.startsWith('/v1/customers/gone') ? 404 : 200;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ url: req.url, sawKey: req.headers['x-api-key'] === SECRET }));
  });
  host = testOperationHost(api.port, provider, { 'other.example': '127.0.0.1' });
});
afterAll(async () => api?.close());

const run = (
  key: string,
  input: unknown,
  over: Partial<ApiOperationHost> = {},
  serverUrl = `http://erp.example:${api.port}/v1`,
) =>
  runApiOperation({ manifest, operationKey: key, bundle: bundles.get(key)!, input, serverUrl }, { ...host, ...over });

describe('runApiOperation', () => {
  it('runs the generated operation in the sandbox, the credential attached by the host', async () => {
    const result = await run('getCustomer', { path: { id: '42' } });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ url: '/v1/customers/42', sawKey: true });
    expect(seenByProvider).toContain('key GET /v1/customers/42');
    expect(api.seen.at(-1)?.headers['x-api-key']).toBe(SECRET);
  });

  it('sends no credential for an operation that declares none', async () => {
    const result = await run('listCustomers', { query: { limit: 2 } });
    expect(result.body).toEqual({ url: '/v1/customers?limit=2', sawKey: false });
  });

  it('encodes a hostile path parameter instead of letting it walk the path', async () => {
    const result = await run('getCustomer', { path: { id: '../../admin?x=1' } });
    expect((result.body as { url: string }).url).toBe('/v1/customers/..%2F..%2Fadmin%3Fx%3D1');
  });

  it('ends an error status as a step failure that names the status', async () => {
    expect(await outcome(run('getCustomer', { path: { id: 'gone' } }))).toMatch(/^SANDBOX_OPERATION_FAILED: .*404/);
  });

  it('refuses a server the egress allowlist does not name, before any request', async () => {
    const before = api.seen.length;
    expect(await outcome(run('listCustomers', {}, {}, `http://other.example:${api.port}/v1`))).toMatch(
      /^SANDBOX_OPERATION_FAILED: .*other\.example/,
    );
    expect(api.seen.length).toBe(before);
  });

  it('needs credentials configured for an operation that requires them, and an absolute base URL', async () => {
    expect(await outcome(run('getCustomer', { path: { id: '1' } }, { credentials: undefined }))).toMatch(
      /^SANDBOX_BAD_INPUT: operation getCustomer needs credentials for key/,
    );
    expect(
      await outcome(
        runApiOperation(
          { manifest, operationKey: 'listCustomers', bundle: bundles.get('listCustomers')!, input: {} },
          host,
        ),
      ),
    ).toMatch(/^SANDBOX_BAD_INPUT: the API declares no absolute server URL \(it says "\/v1"\)/);
    expect(await outcome(run('dropTables', {}))).toMatch(/^SANDBOX_UNKNOWN_OPERATION/);
  });
});
