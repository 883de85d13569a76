// The SDK runtime against a real local HTTP server (standing in for an internet API): retries and
// Retry-After, timeouts, typed errors, every pagination kind, and parameter serialization.
import {
  ApiError,
  type HttpRequest,
  type OperationSpec,
  SdkError,
  call,
  createClient,
  nextLink,
  pages,
  retryAfterMs,
} from '../../src/codegen/runtime/sdk-runtime';
import { fetchTransport, recordingTimers } from './support/host';
import { FIXED_NOW, ITEMS, type TestApi, startTestApi } from './support/test-api';

const TIMEOUT = 4_321;
let api: TestApi;
let baseUrl: string;
let hits: Map<string, number>;

beforeAll(async () => {
  api = await startTestApi();
  ({ baseUrl, hits } = api);
});

afterAll(() => api.close());

beforeEach(() => hits.clear());

function get(path: string, extra: Partial<OperationSpec> = {}): OperationSpec {
  return { key: `get ${path}`, method: 'get', path, params: [], security: [], ...extra };
}

function client(options: { maxAttempts?: number; seen?: HttpRequest[]; timeoutMs?: number } = {}) {
  const timers = recordingTimers(options.timeoutMs ?? TIMEOUT);
  return {
    timers,
    client: createClient({
      transport: fetchTransport(baseUrl, options.seen),
      timers,
      timeoutMs: options.timeoutMs ?? TIMEOUT,
      retry: { maxAttempts: options.maxAttempts ?? 3, baseDelayMs: 100 },
      random: () => 1,
      now: () => FIXED_NOW,
    }),
  };
}

describe('retries', () => {
  it('waits out a 429 Retry-After given in seconds, then succeeds', async () => {
    const { client: sdk, timers } = client();
    const response = await call(sdk, get('/retry-after-seconds'), {});
    expect(response).toMatchObject({ status: 200, body: { ok: true } });
    expect(hits.get('/retry-after-seconds')).toBe(2);
    expect(timers.sleeps).toEqual([2_000]);
  });

  it('waits out a 503 Retry-After given as an HTTP-date', async () => {
    const { client: sdk, timers } = client();
    await expect(call(sdk, get('/retry-after-date'), {})).resolves.toMatchObject({ status: 200 });
    expect(timers.sleeps).toEqual([5_000]);
  });

  it('backs off exponentially on 409 when no Retry-After is given', async () => {
    const { client: sdk, timers } = client({ maxAttempts: 4 });
    await expect(call(sdk, get('/conflict-then-ok'), {})).resolves.toMatchObject({ body: { ok: 3 } });
    // random() is 1: the jitter's ceiling, base 100 ms doubled per attempt.
    expect(timers.sleeps).toEqual([100, 200]);
  });

  it('gives up after the last attempt with a typed error carrying status and body', async () => {
    const { client: sdk } = client({ maxAttempts: 3 });
    const error = await call(sdk, get('/always-503'), {}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      code: 'http_status',
      status: 503,
      body: { error: 'down' },
      operation: 'get /always-503',
    });
    expect(hits.get('/always-503')).toBe(3);
  });

  it('does not wait out a Retry-After longer than the limit', async () => {
    const { client: sdk, timers } = client();
    await expect(call(sdk, get('/retry-after-hour'), {})).rejects.toMatchObject({ status: 429 });
    expect(hits.get('/retry-after-hour')).toBe(1);
    expect(timers.sleeps).toEqual([]);
  });

  it('does not retry a 404', async () => {
    const { client: sdk } = client();
    await expect(call(sdk, get('/missing'), {})).rejects.toMatchObject({
      status: 404,
      body: { message: 'no such pet' },
    });
    expect(hits.get('/missing')).toBe(1);
  });

  it('times out a slow response, retrying an idempotent call', async () => {
    const { client: sdk } = client({ maxAttempts: 2, timeoutMs: 150 });
    const error = await call(sdk, get('/slow'), {}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SdkError);
    expect(error).toMatchObject({ code: 'timeout' });
    await waitFor(() => hits.get('/slow') === 2);
  });

  it('does not retry a POST whose transport failed', async () => {
    let attempts = 0;
    const sdk = createClient({
      transport: () => {
        attempts += 1;
        return Promise.reject(new Error('connection reset'));
      },
      retry: { maxAttempts: 3, baseDelayMs: 1 },
    });
    await expect(call(sdk, { ...get('/x'), method: 'post' }, {})).rejects.toMatchObject({ code: 'transport' });
    expect(attempts).toBe(1);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let tries = 0; !condition(); tries += 1) {
    if (tries > 200) throw new Error('condition not met');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('pagination', () => {
  async function collect(spec: OperationSpec, input = {}): Promise<unknown[]> {
    const { client: sdk } = client();
    const items: unknown[] = [];
    for await (const page of pages(sdk, spec, input)) items.push(...page.items);
    return items;
  }

  it('follows a cursor in the body', async () => {
    const spec = get('/cursor', {
      params: [{ name: 'cursor', in: 'query', required: false }],
      pagination: { kind: 'cursor', param: 'cursor', next: '/meta/next', items: '/data' },
    });
    expect(await collect(spec)).toEqual(ITEMS);
    expect(hits.get('/cursor')).toBe(3);
  });

  it('advances an offset by the items received and stops on a short page', async () => {
    const spec = get('/offset', {
      params: [
        { name: 'offset', in: 'query', required: false },
        { name: 'limit', in: 'query', required: false },
      ],
      pagination: { kind: 'offset', offsetParam: 'offset', limitParam: 'limit', items: '/items' },
    });
    expect(await collect(spec, { query: { limit: 10 } })).toEqual(ITEMS);
    expect(hits.get('/offset')).toBe(3);
  });

  it('advances a page number until an empty page', async () => {
    const spec = get('/page', {
      params: [{ name: 'page', in: 'query', required: false }],
      pagination: { kind: 'page', pageParam: 'page' },
    });
    expect(await collect(spec)).toEqual(ITEMS);
    expect(hits.get('/page')).toBe(4);
  });

  it('follows Link rel="next" headers', async () => {
    const seen: HttpRequest[] = [];
    const { client: sdk } = client({ seen });
    const items: unknown[] = [];
    for await (const page of pages(sdk, get('/link', { pagination: { kind: 'link-header' } }), {}))
      items.push(...page.items);
    expect(items).toEqual(ITEMS);
    expect(seen.map((request) => request.url)).toEqual(['/link', `${baseUrl}/link?page=2`, `${baseUrl}/link?page=3`]);
  });
});

describe('requests', () => {
  it('serializes path, query, header and cookie parameters and a JSON body', async () => {
    const seen: HttpRequest[] = [];
    const { client: sdk } = client({ seen });
    const spec: OperationSpec = {
      key: 'echo',
      method: 'post',
      path: '/{kind}',
      params: [
        { name: 'kind', in: 'path', required: true },
        { name: 'tags', in: 'query', required: false },
        { name: 'filter', in: 'query', required: false, style: 'deepObject', explode: true },
        { name: '__proto__', in: 'query', required: false },
        { name: 'X-Trace', in: 'header', required: false },
        { name: 'session', in: 'cookie', required: false },
      ],
      body: { contentType: 'application/json', required: true },
      security: [[{ scheme: 'key', scopes: [] }]],
    };
    const response = await call(sdk, spec, {
      path: { kind: 'echo' },
      query: { tags: ['a b', 'c&d'], filter: { state: 'open' } },
      headers: { 'X-Trace': 't-1' },
      cookies: { session: 's 1' },
      body: { name: 'Rex' },
    });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      url: '/echo?tags=a%20b&tags=c%26d&filter%5Bstate%5D=open',
      headers: { 'x-trace': 't-1', cookie: 'session=s%201', 'content-type': 'application/json' },
      body: '{"name":"Rex"}',
    });
    expect(seen[0]?.security).toEqual([[{ scheme: 'key', scopes: [] }]]);
  });

  it('refuses a header name that is no HTTP token, and keeps `__proto__` a plain header', async () => {
    const seen: HttpRequest[] = [];
    const { client: sdk } = client({ seen });
    const spec = (name: string) => get('/echo', { params: [{ name, in: 'header', required: true }] });
    await expect(call(sdk, spec('X-A: 1\r\nX-Evil'), { headers: { 'X-A: 1\r\nX-Evil': 'v' } })).rejects.toMatchObject({
      code: 'invalid_input',
    });
    await call(sdk, spec('__proto__'), { headers: { ['__proto__']: 'v' } });
    expect(Object.getPrototypeOf(seen[0]?.headers)).toBe(Object.prototype);
    expect(Object.keys(seen[0]?.headers ?? {})).toEqual(['__proto__']);
  });

  it('refuses a missing required parameter and a header value with a line break', async () => {
    const { client: sdk } = client();
    const spec = get('/{id}', {
      params: [
        { name: 'id', in: 'path', required: true },
        { name: 'X-A', in: 'header', required: false },
      ],
    });
    await expect(call(sdk, spec, {})).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(call(sdk, spec, { path: { id: 1 }, headers: { 'X-A': 'a\r\nSet-Cookie: x' } })).rejects.toMatchObject({
      code: 'invalid_input',
    });
  });
});

describe('path parameters from data', () => {
  // A value a definition passes (a record's id) is data an attacker may have written: `..` in a path
  // segment is a dot segment every URL parser resolves, so `/echo/{id}` with `..` would call `/` (another
  // endpoint of the API, with the operation's method and credentials). Encoding cannot help: WHATWG URL
  // takes `%2e%2e` for `..` too.
  it.each([
    ['/echo/{a}', { a: '..' }],
    ['/echo/{a}', { a: '.' }],
    ['/echo/{a}{b}/x', { a: '.', b: '.' }],
  ])('refuses a dot segment made of parameters (%s, %j) before any request', async (path, values) => {
    const { client: sdk } = client({ maxAttempts: 1 });
    const params = Object.keys(values).map((name) => ({ name, in: 'path' as const, required: true }));
    await expect(call(sdk, get(path, { params }), { path: values })).rejects.toMatchObject({
      code: 'invalid_input',
    });
    expect([...hits.keys()]).toEqual([]);
  });

  it('keeps dots that are not a whole segment, and encodes what looks like an encoded dot', async () => {
    const seen: HttpRequest[] = [];
    const { client: sdk } = client({ seen, maxAttempts: 1 });
    const spec = get('/echo/{id}/{file}.json', {
      params: [
        { name: 'id', in: 'path', required: true },
        { name: 'file', in: 'path', required: true },
      ],
    });
    await call(sdk, spec, { path: { id: '%2e%2e', file: '..' } }).catch(() => undefined);
    expect(seen.map((r) => r.url)).toEqual(['/echo/%252e%252e/...json']);
  });
});

describe('helpers', () => {
  it('reads Retry-After in seconds and as an HTTP-date', () => {
    expect(retryAfterMs('7', FIXED_NOW)).toBe(7_000);
    expect(retryAfterMs(new Date(FIXED_NOW + 3_000).toUTCString(), FIXED_NOW)).toBe(3_000);
    expect(retryAfterMs(new Date(FIXED_NOW - 3_000).toUTCString(), FIXED_NOW)).toBe(0);
    expect(retryAfterMs('soon', FIXED_NOW)).toBeUndefined();
  });

  it('finds rel="next" among several links', () => {
    expect(nextLink('<https://a/x?page=1>; rel="prev", <https://a/x?page=3>; rel="next"')).toBe('https://a/x?page=3');
    expect(nextLink('<https://a/x?page=3>; rel="nextish"')).toBeUndefined();
    expect(nextLink(undefined)).toBeUndefined();
  });
});
