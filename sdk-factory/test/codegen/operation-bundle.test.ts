// An operation's bundle as the sandbox runs it: evaluated in a fresh context that has none of Node's
// globals (no timers, no fetch, no require), given only the host's transport and timers, against a real
// local HTTP server: retries with Retry-After, typed errors, pagination and request serialization.
import { runInNewContext } from 'node:vm';
import { BUNDLE_GLOBAL, generateSdk } from '../../src/codegen';
import type { HttpRequest } from '../../src/codegen/runtime/sdk-runtime';
import { fetchTransport, recordingTimers } from './support/host';
import { json, manifestOf, operation, parameter } from './support/manifests';
import { ITEMS, type TestApi, startTestApi } from './support/test-api';

const TIMEOUT = 5_432;

interface LoadedOperation {
  key: string;
  call(host: unknown, input?: unknown): Promise<{ status: number; body: unknown }>;
  pages?(host: unknown, input?: unknown): AsyncIterable<{ items: unknown[] }>;
}

const manifest = manifestOf([
  operation('get', '/retry-after-seconds', { operationId: 'limited' }),
  operation('get', '/always-503', { operationId: 'down', responses: [{ status: '200', content: [] }] }),
  operation('get', '/cursor', {
    operationId: 'listItems',
    parameters: [parameter('cursor', 'query', { type: 'string' })],
    responses: [{ status: '200', content: json({ type: 'object' }) }],
    pagination: { kind: 'cursor', param: 'cursor', next: '/meta/next', items: '/data' },
  }),
  operation('post', '/{kind}', {
    operationId: 'echo',
    parameters: [parameter('kind', 'path', { type: 'string' }), parameter('q', 'query', { type: 'integer' })],
    requestBody: { required: true, content: json({ type: 'object' }) },
    responses: [{ status: '201', content: json({ type: 'object' }) }],
    security: [{ key: [] }],
  }),
]);

let api: TestApi;
let bundles: Map<string, string>;

beforeAll(async () => {
  api = await startTestApi();
  const sdk = await generateSdk(manifest, { bundle: true });
  bundles = new Map(sdk.operations.map((entry) => [entry.key, entry.bundle ?? '']));
});

afterAll(() => api.close());

beforeEach(() => api.hits.clear());

function load(key: string): { operation: LoadedOperation; context: Record<string, unknown> } {
  const context: Record<string, unknown> = {};
  runInNewContext(`${bundles.get(key) ?? ''}\nglobalThis.${BUNDLE_GLOBAL} = ${BUNDLE_GLOBAL};`, context);
  expect(Object.keys(context).sort()).toEqual([BUNDLE_GLOBAL]);
  return { operation: context[BUNDLE_GLOBAL] as LoadedOperation, context };
}

function host(seen: HttpRequest[] = []) {
  const timers = recordingTimers(TIMEOUT);
  return { timers, options: { transport: fetchTransport(api.baseUrl, seen), timers, timeoutMs: TIMEOUT } };
}

describe('an operation bundle in a bare context', () => {
  it('fails clearly without host timers, since the sandbox has no global ones', async () => {
    const { operation } = load('limited');
    await expect(operation.call({ transport: fetchTransport(api.baseUrl) })).rejects.toThrow(/no timers/);
  });

  it('waits out a 429 Retry-After through the host timers, then resolves', async () => {
    const { operation } = load('limited');
    const { timers, options } = host();
    await expect(operation.call(options)).resolves.toMatchObject({ status: 200, body: { ok: true } });
    expect(timers.sleeps).toEqual([2_000]);
    expect(api.hits.get('/retry-after-seconds')).toBe(2);
  });

  it('throws a typed error with status and body after its retries', async () => {
    const { operation } = load('down');
    const { options } = host();
    await expect(operation.call({ ...options, retry: { maxAttempts: 2, baseDelayMs: 1 } })).rejects.toMatchObject({
      name: 'ApiError',
      code: 'http_status',
      status: 503,
      body: { error: 'down' },
    });
    expect(api.hits.get('/always-503')).toBe(2);
  });

  it('pages through a cursor', async () => {
    const { operation } = load('listItems');
    const { options } = host();
    const items: unknown[] = [];
    for await (const page of operation.pages?.(options) ?? []) items.push(...page.items);
    expect(items).toEqual(ITEMS);
  });

  it('serializes its parameters and body and names its security for the host', async () => {
    const { operation } = load('echo');
    const seen: HttpRequest[] = [];
    const { options } = host(seen);
    const response = await operation.call(options, { path: { kind: 'echo' }, query: { q: 3 }, body: { a: 1 } });
    expect(response).toMatchObject({ status: 201, body: { url: '/echo?q=3', body: '{"a":1}' } });
    expect(seen[0]).toMatchObject({ operation: 'echo', method: 'POST', security: [[{ scheme: 'key', scopes: [] }]] });
  });
});
