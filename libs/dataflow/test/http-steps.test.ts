import {
  type DataflowError,
  encodeChunk,
  readHttp,
  writeHttp,
  inferColumns,
  nextLink,
  recordsToRows,
  retryAfterMs,
  rowsToRecords,
  sendWithRetry,
  urlUnder,
  confineTo,
  type HttpRequest,
  type HttpResponse,
} from '../src';

/** The pure parts of the HTTP steps: URL confinement, Retry-After, paging links, records as rows. */
describe('a step path under its endpoint', () => {
  const base = new URL('http://erp.local:8080/api/v2/');
  const code = (f: () => unknown) => {
    try {
      f();
      return 'allowed';
    } catch (err) {
      return (err as DataflowError).code;
    }
  };

  it('resolves a relative path under the base, keeping its query', () => {
    expect(urlUnder(base, '/orders?status=open').href).toBe('http://erp.local:8080/api/v2/orders?status=open');
    expect(urlUnder(new URL('https://api.example.com'), 'contacts').href).toBe('https://api.example.com/contacts');
  });

  it.each([
    ['../admin'],
    ['orders/../../admin'],
    ['%2e%2e/admin'],
    ['orders/%2E%2E/%2e%2e/admin'],
    ['..%2fadmin'],
    ['http://evil.example/x'],
    ['HTTPS://erp.local:8080/api/v2/orders'],
    ['//evil.example/x'],
    ['\\\\evil.example\\x'],
    ['orders\\..\\..\\admin'],
    ['file:///etc/passwd'],
    ['orders/\u0000'],
  ])('refuses %j', (path) => {
    expect(code(() => urlUnder(base, path))).toBe('HTTP_REFUSED');
  });

  it('confines later URLs (cursor, Link header, redirect) to the origin and the allowed prefixes', () => {
    const prefixes = ['/api/v2/orders'];
    expect(code(() => confineTo(base, new URL('http://erp.local:8080/api/v2/orders?page=2'), prefixes))).toBe(
      'allowed',
    );
    expect(code(() => confineTo(base, new URL('http://erp.local:8080/api/v2/orders/7'), prefixes))).toBe('allowed');
    expect(code(() => confineTo(base, new URL('http://erp.local:8080/api/v2/ordersx'), prefixes))).toBe('HTTP_REFUSED');
    expect(code(() => confineTo(base, new URL('http://erp.local:8080/api/v2/users'), prefixes))).toBe('HTTP_REFUSED');
    expect(code(() => confineTo(base, new URL('http://erp.local:9090/api/v2/orders'), prefixes))).toBe('HTTP_REFUSED');
    expect(code(() => confineTo(base, new URL('http://u:p@erp.local:8080/api/v2/orders'), prefixes))).toBe(
      'HTTP_REFUSED',
    );
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delta-seconds and HTTP-dates, capped; anything else is absent', () => {
    expect(retryAfterMs('2', 60_000, now)).toBe(2000);
    expect(retryAfterMs('3600', 60_000, now)).toBe(60_000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', 60_000, now)).toBe(5000);
    expect(retryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', 60_000, now)).toBe(0);
    expect(retryAfterMs(undefined, 60_000, now)).toBeUndefined();
    expect(retryAfterMs('soon', 60_000, now)).toBeUndefined();
    expect(retryAfterMs('-1', 60_000, now)).toBeUndefined();
  });

  it('waits what the server says on 429/5xx, backs off without it, and returns the last answer', async () => {
    const statuses = [429, 503, 500, 200];
    const headers = [{ 'retry-after': '7' }, {}, { 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }, {}];
    const request: HttpRequest = { method: 'GET', url: new URL('http://x/'), headers: {} };
    let i = 0;
    const send = async (): Promise<HttpResponse> => ({
      status: statuses[i]!,
      headers: headers[i++]!,
      body: Buffer.alloc(0),
      url: request.url,
    });
    const waits: number[] = [];
    const retried: (number | undefined)[] = [];
    const response = await sendWithRetry(
      send,
      request,
      { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 60_000, sleep: async (ms) => void waits.push(ms), now: () => now },
      undefined,
      (status) => retried.push(status),
    );
    expect(response.status).toBe(200);
    expect(retried).toEqual([429, 503, 500]);
    expect(waits[0]).toBe(7000);
    expect(waits[1]).toBeGreaterThanOrEqual(100);
    expect(waits[1]).toBeLessThanOrEqual(200);
    expect(waits[2]).toBe(3000);
  });

  it('gives up after maxRetries with the last answer, and never retries a 4xx', async () => {
    const request: HttpRequest = { method: 'GET', url: new URL('http://x/'), headers: {} };
    let calls = 0;
    const answer = (status: number) => async (): Promise<HttpResponse> => {
      calls++;
      return { status, headers: {}, body: Buffer.alloc(0), url: request.url };
    };
    const options = { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => undefined };
    expect((await sendWithRetry(answer(503), request, options)).status).toBe(503);
    expect(calls).toBe(3);
    calls = 0;
    expect((await sendWithRetry(answer(404), request, options)).status).toBe(404);
    expect(calls).toBe(1);
  });
});

describe('paging and records', () => {
  it('finds rel="next" among Link entries, resolved against the answer URL', () => {
    const base = new URL('https://api.example.com/v1/contacts?cursor=a');
    expect(
      nextLink('<https://api.example.com/v1/contacts?cursor=b>; rel="next", <…?cursor=z>; rel="last"', base)?.href,
    ).toBe('https://api.example.com/v1/contacts?cursor=b');
    expect(nextLink('</v1/contacts?page=3>; rel="prev next"', base)?.href).toBe(
      'https://api.example.com/v1/contacts?page=3',
    );
    expect(nextLink('<https://api.example.com/v1/contacts?page=1>; rel="prev"', base)).toBeUndefined();
    expect(nextLink(undefined, base)).toBeUndefined();
  });

  it('types the columns from the first records and round-trips them through rows', () => {
    const records = [
      { id: 1, name: 'a', score: 1, active: true, tags: ['x'], note: null },
      { id: 2, name: 'b', score: 1.5, active: false, tags: [], note: 'n' },
    ];
    const columns = inferColumns(records);
    expect(columns.map((c) => [c.name, c.type.kind])).toEqual([
      ['id', 'integer'],
      ['name', 'text'],
      ['score', 'float'],
      ['active', 'boolean'],
      ['tags', 'json'],
      ['note', 'text'],
    ]);
    const rows = recordsToRows(records, columns);
    expect(
      rowsToRecords(
        rows,
        columns.map((c) => c.name),
      ),
    ).toEqual(records);
  });

  it('names a later field or value the first page did not have, instead of dropping it', () => {
    const columns = inferColumns([{ id: 1, name: 'a' }]);
    expect(() => recordsToRows([{ id: 2, name: 'b', extra: 1 }], columns, 100)).toThrow(
      /record 101 has the field "extra"/,
    );
    expect(() => recordsToRows([{ id: 'x', name: 'b' }], columns)).toThrow(/a string in "id"/);
  });
});

describe('resuming a retried attempt', () => {
  const ok = (url: URL, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({
    status: 200,
    headers,
    body: Buffer.from(JSON.stringify(body)),
    url,
  });
  const noRetry = { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 };

  it('a write starts after the records an earlier attempt reported done, in the same batches', async () => {
    const records = Array.from({ length: 7 }, (_, i) => ({ id: i + 1, name: `r${i + 1}` }));
    const columns = inferColumns(records);
    const chunks = [
      await encodeChunk(recordsToRows(records.slice(0, 4), columns)),
      await encodeChunk(recordsToRows(records.slice(4), columns)),
    ];
    const sent: { key?: string; body: unknown }[] = [];
    const result = await writeHttp(
      { method: 'POST', url: new URL('http://api.test/x'), batchSize: 2, idempotencyKey: 'id' },
      {
        send: async (request) => {
          sent.push({ key: request.headers['idempotency-key'], body: JSON.parse(request.body!.toString()) });
          return ok(request.url, {});
        },
        retry: noRetry,
        resume: { recordsDone: 4, requests: 2, retried: 1 },
        source: {
          objectId: 'obj12345',
          manifest: async () => ({ schema: { columns, keyColumns: [] }, chunkCount: 2, rowCount: 7 }),
          chunk: async (i) => chunks[i]!,
        },
      },
      () => undefined,
    );
    expect(sent.map((s) => (s.body as { id: number }[]).map((r) => r.id))).toEqual([[5, 6], [7]]);
    expect(sent[1]!.key).toBe('7');
    expect(result).toEqual({ requests: 4, records: 7, retried: 1 });
  });

  it('a read goes on from the next page an earlier attempt reported, on the endpoint origin', async () => {
    const asked: string[] = [];
    const put: number[] = [];
    const columns = inferColumns([{ id: 1 }]);
    const result = await readHttp(
      {
        method: 'GET',
        url: new URL('http://api.test/v1/contacts'),
        records: 'data',
        pagination: { kind: 'cursor', next: 'next', param: 'cursor' },
        maxPages: 10,
      },
      {
        send: async (request) => {
          asked.push(request.url.href);
          const cursor = request.url.searchParams.get('cursor');
          return ok(request.url, { data: [{ id: cursor === 'c2' ? 3 : 4 }], next: cursor === 'c2' ? 'c3' : null });
        },
        retry: noRetry,
        resume: { pagesDone: 2, chunksDone: 2, rowsDone: 2, next: '/v1/contacts?cursor=c2', columns },
        sink: { put: async (index) => void put.push(index), commit: async () => undefined },
      },
      () => undefined,
    );
    expect(asked).toEqual(['http://api.test/v1/contacts?cursor=c2', 'http://api.test/v1/contacts?cursor=c3']);
    expect(put).toEqual([2, 3]);
    expect(result).toMatchObject({ rowCount: 4, chunkCount: 4, pages: 4, truncated: false });
  });
});
