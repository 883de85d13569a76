import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHostHttp, createSandbox, type CredentialProvider, type HostHttp } from '../../src/sandbox';
import { hostsResolver, outcome, startApi } from './support';

const SECRET = 'tok-very-secret-123';

describe('the operation sandbox', () => {
  let api: Awaited<ReturnType<typeof startApi>>;
  beforeAll(async () => {
    api = await startApi((req, res, body) => {
      if (req.url?.startsWith('/customers')) {
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ items: [{ id: 1, name: 'Ada' }], got: body ? JSON.parse(body) : null }));
      }
      if (req.url === '/hang') return; // never answers
      if (req.url?.startsWith('/v2/customers/active')) {
        res.setHeader('content-type', 'application/json');
        const page2 = req.url.includes('cursor=p2');
        return res.end(
          JSON.stringify({ items: page2 ? [{ id: 3 }] : [{ id: 1 }, { id: 2 }], next: page2 ? null : 'p2' }),
        );
      }
      if (req.url === '/v2/customers/7') {
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ id: 7, name: 'Grace', status: 'retired' }));
      }
      res.writeHead(404).end();
    });
  });
  afterAll(() => api.close());

  const provider: CredentialProvider = {
    credentialsFor: async (scheme) =>
      scheme === 'bearerAuth' ? { headers: { authorization: `Bearer ${SECRET}` } } : undefined,
  };
  const http = (over: Partial<Parameters<typeof createHostHttp>[0]> = {}): HostHttp =>
    createHostHttp({
      side: 'cloud',
      allow: [{ host: 'api.example', ports: [api.port] }],
      allowPrivate: true, // 127.0.0.1 stands in for the API's public address
      resolver: hostsResolver({ 'api.example': '127.0.0.1' }),
      timeoutMs: 5_000,
      maxResponseBytes: 1024 * 1024,
      credentials: { provider, schemes: ['bearerAuth'], origin: `http://api.example:${api.port}` },
      ...over,
    });
  const base = () => `http://api.example:${api.port}`;
  const bundle = (body: string) => `
    const BASE = ${JSON.stringify(base())};
    ${body}`;

  it('runs an operation: input in, HTTP through the host with the credential attached there, JSON out', async () => {
    const sandbox = createSandbox();
    const result = await sandbox.runOperation({
      bundle: bundle(`
        exports.listCustomers = async function (input, ctx) {
          const res = await ctx.http({ method: 'POST', url: BASE + '/customers?active=' + input.active,
            headers: { 'content-type': 'application/json' }, body: JSON.stringify({ q: input.q }) });
          return { status: res.status, body: JSON.parse(res.body) };
        };`),
      operation: 'listCustomers',
      input: { active: true, q: 'A' },
      http: http(),
    });
    expect(result).toEqual({ status: 200, body: { items: [{ id: 1, name: 'Ada' }], got: { q: 'A' } } });
    const last = api.seen.at(-1)!;
    expect(last.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(last.url).toBe('/customers?active=true');
  });

  it("attaches the credential only on the API's own origin, not on another host the allowlist names", async () => {
    // A pagination link or redirect target on another allowed host (a CDN, a *.example rule) must not get the token.
    const asked: string[] = [];
    const counting: CredentialProvider = {
      credentialsFor: async (scheme, request) => {
        asked.push(request.url.host);
        return provider.credentialsFor(scheme, request);
      },
    };
    const send = http({
      allow: [{ host: '*.example', ports: [api.port] }],
      resolver: hostsResolver({ 'api.example': '127.0.0.1', 'cdn.example': '127.0.0.1' }),
      credentials: { provider: counting, schemes: ['bearerAuth'], origin: `http://api.example:${api.port}/v1` },
    });
    const signal = new AbortController().signal;
    await send({ method: 'GET', url: `http://cdn.example:${api.port}/customers/7`, headers: {} }, signal);
    expect(api.seen.at(-1)!.headers.authorization).toBeUndefined();
    await send({ method: 'GET', url: `http://api.example:${api.port}/customers/7`, headers: {} }, signal);
    expect(api.seen.at(-1)!.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(asked).toEqual([`api.example:${api.port}`]);
  });

  it('never shows the credential to sandboxed code: the bundle searching for it finds nothing', async () => {
    const sandbox = createSandbox();
    const found = await sandbox.runOperation({
      bundle: bundle(`
        exports.snoop = async function (input, ctx) {
          const seen = [];
          const res = await ctx.http({ method: 'GET', url: BASE + '/customers' });
          seen.push(JSON.stringify(res), JSON.stringify(ctx), String(ctx.http), Object.getOwnPropertyNames(globalThis).join(','));
          try { seen.push(String(ctx.http.constructor('return this')())); } catch (e) { seen.push(String(e)); }
          seen.push(typeof process, typeof require, typeof fetch, typeof setTimeout);
          return seen.join('\\n');
        };`),
      operation: 'snoop',
      input: {},
      http: http(),
    });
    expect(api.seen.at(-1)!.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(String(found)).not.toContain(SECRET);
    expect(String(found)).not.toMatch(/bearer/i);
    expect(String(found)).toContain('undefined\nundefined\nundefined\nundefined');
  });

  it('ends each failure as a typed step failure', async () => {
    const sandbox = createSandbox({ timeoutMs: 1_000, maxHttpRequests: 3 });
    const run = (body: string, operation = 'op', input: unknown = {}, h: HostHttp = http()) =>
      outcome(sandbox.runOperation({ bundle: bundle(body), operation, input, http: h }));
    expect(await run('exports.op = function () { return 1; }', 'other')).toMatch(
      /^SANDBOX_UNKNOWN_OPERATION: the bundle has no operation "other" \(it has op\)/,
    );
    expect(await run('exports.op = function ( {')).toMatch(
      /^SANDBOX_BAD_BUNDLE: the bundle failed to load: SyntaxError/,
    );
    expect(await run('throw new Error("boom at load")')).toMatch(/^SANDBOX_BAD_BUNDLE: .*boom at load/);
    expect(await run('exports.op = async () => { throw new RangeError("bad id"); }')).toBe(
      'SANDBOX_OPERATION_FAILED: RangeError: bad id',
    );
    expect(await run('exports.op = () => ({ f: function () {} , n: 1 })')).toBe('ok: {"n":1}');
    expect(await run('exports.op = () => undefined')).toBe('ok: null');
    expect(
      await run(`exports.op = (i, ctx) => ctx.http({ method: 'GET', url: 'http://elsewhere.example/x' })`),
    ).toMatch(/^SANDBOX_OPERATION_FAILED: HttpError: HTTP_REFUSED: elsewhere.example is not on the egress allowlist/);
    expect(
      await run(`exports.op = async (i, ctx) => { try { await ctx.http({ method: 'GET', url: 'http://127.0.0.1/' }); }
        catch (e) { return 'caught ' + e.message; } }`),
    ).toMatch(/^ok: "caught HTTP_REFUSED: 127.0.0.1 is not on the egress allowlist/);
    expect(await run(`exports.op = (i, ctx) => ctx.http({ method: 'TRACE', url: BASE })`)).toMatch(
      /^SANDBOX_OPERATION_FAILED: HttpError: bad HTTP request: request method/,
    );
    expect(await run(`exports.op = (i, ctx) => ctx.http({ method: 'GET', url: BASE + '/hang' })`)).toMatch(
      /^SANDBOX_TIMEOUT: operation op ran longer than 1000 ms \(HTTP waits included\)/,
    );
    expect(
      await run(
        `exports.op = async (i, ctx) => { for (let n = 0; n < 10; n++) await ctx.http({ method: 'GET', url: BASE + '/customers' }); }`,
      ),
    ).toBe('SANDBOX_HTTP_LIMIT: the operation made more than 3 HTTP requests');
    expect(
      await outcome(
        sandbox.runOperation({
          bundle: bundle('exports.op = () => 1'),
          operation: 'op',
          input: { n: 1n },
          http: http(),
        }),
      ),
    ).toMatch(/^SANDBOX_BAD_INPUT/);
  });

  it('keeps a bundle loaded for warm calls, one at a time, and refuses to run after a limit failure', async () => {
    const sandbox = createSandbox({ timeoutMs: 500 });
    const loaded = await sandbox.load(
      bundle(`let calls = 0;
      exports.count = (input) => ({ calls: ++calls, x: input.x });
      exports.spin = () => { for (;;) {} };`),
    );
    try {
      expect(loaded.operations).toEqual(['count', 'spin']);
      const results = await Promise.all([1, 2, 3].map((x) => loaded.run('count', { x }, http())));
      expect(results).toEqual([
        { calls: 1, x: 1 },
        { calls: 2, x: 2 },
        { calls: 3, x: 3 },
      ]);
      expect(await outcome(loaded.run('spin', {}, http()))).toMatch(/^SANDBOX_TIMEOUT/);
      expect(await outcome(loaded.run('count', { x: 4 }, http()))).toMatch(
        /^SANDBOX_RESOURCES: the sandbox was stopped/,
      );
    } finally {
      loaded.dispose();
    }
  });

  it('runs the representative bundle: a paged list, and a schema check that fails as a step failure', async () => {
    const source = readFileSync(join(__dirname, 'fixtures', 'representative-bundle.js'), 'utf8');
    const sandbox = createSandbox();
    const baseUrl = `${base()}/v2`;
    expect(
      await sandbox.runOperation({
        bundle: source,
        operation: 'listActiveCustomers',
        input: { baseUrl },
        http: http(),
      }),
    ).toEqual({ items: [{ id: 1 }, { id: 2 }, { id: 3 }], next: null });
    expect(
      await outcome(
        sandbox.runOperation({
          bundle: source,
          operation: 'getCustomer',
          input: { baseUrl, customerId: 7 },
          http: http(),
        }),
      ),
    ).toBe('SANDBOX_OPERATION_FAILED: ApiError: getCustomer answered 200');
    expect(
      await outcome(
        sandbox.runOperation({ bundle: source, operation: 'getCustomer', input: { baseUrl }, http: http() }),
      ),
    ).toBe('SANDBOX_OPERATION_FAILED: TypeError: getCustomer: the parameter customerId is required');
  });

  it('gives each runOperation a fresh context: nothing of one call reaches the next', async () => {
    const sandbox = createSandbox();
    const source = bundle(
      `exports.op = () => { const before = globalThis.leak; globalThis.leak = 'set'; return before ?? null; };`,
    );
    expect(await sandbox.runOperation({ bundle: source, operation: 'op', input: {}, http: http() })).toBeNull();
    expect(await sandbox.runOperation({ bundle: source, operation: 'op', input: {}, http: http() })).toBeNull();
  });
});
