import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_INLINE_SITE_SPEC_BYTES } from '@vansales/protocol';
import { SitePolicyFile } from '../src/policy/site-policy';
import { createApiFetchSpec } from '../src/operations/api-fetch-spec';
import type { OperationContext } from '../src/operations/operation';

/*
 * api.fetch-spec fetches only what the site allows: a URL under a site policy API (GET allowed, its
 * paths) or the config's allowlist; never a redirect to another host; never more than the cap. A
 * local server stands in for the site's API.
 */
describe('api.fetch-spec: the agent fetches a specification under its site’s rules', () => {
  let server: Server;
  let base: string;
  const spec = JSON.stringify({ openapi: '3.0.3', info: { title: 'site', version: '1' }, paths: {} });

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/openapi.json' || req.url === '/docs/openapi.json') {
        res.setHeader('content-type', 'application/json');
        return res.end(spec);
      }
      if (req.url === '/moved') {
        res.statusCode = 302;
        res.setHeader('location', '/openapi.json');
        return res.end();
      }
      if (req.url === '/elsewhere') {
        // Same server, another host name: another origin for the agent.
        res.statusCode = 302;
        res.setHeader('location', base.replace('127.0.0.1', 'localhost') + '/openapi.json');
        return res.end();
      }
      if (req.url === '/huge') return res.end('x'.repeat(HUGE));
      if (req.url === '/large') return res.end('x'.repeat(MAX_INLINE_SITE_SPEC_BYTES + 1));
      res.statusCode = 404;
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  const ctx: OperationContext = { signal: new AbortController().signal, progress: () => undefined, attempt: 1 };
  const HUGE = 64 * 1024 + 1;
  const handler = (
    apis: unknown,
    allowedUrlPrefixes: string[] = [],
    more: { specFetch?: unknown; maxBytes?: number } = {},
  ) =>
    createApiFetchSpec({
      policyFile: () => SitePolicyFile.parse({ apis, ...(more.specFetch ? { specFetch: more.specFetch } : {}) }),
      allowedUrlPrefixes,
      ...(more.maxBytes ? { maxBytes: more.maxBytes } : {}),
    });
  const failure = async (p: Promise<unknown>) =>
    (await p.then(
      () => undefined,
      (e: unknown) => e,
    )) as { type?: string; message: string } | undefined;

  it('fetches a URL under a site policy API, following a same-origin redirect', async () => {
    const fetch = handler({ erp: { baseUrl: base } });
    expect(await fetch({ url: `${base}/openapi.json` }, ctx)).toMatchObject({
      text: spec,
      contentType: 'application/json',
      allowedBy: 'erp',
    });
    expect(await fetch({ url: `${base}/moved` }, ctx)).toMatchObject({ text: spec, sourceUrl: `${base}/openapi.json` });
  });

  it('fetches a URL under the config allowlist, and nothing beside it', async () => {
    const fetch = handler({}, [`${base}/docs/`]);
    expect(await fetch({ url: `${base}/docs/openapi.json` }, ctx)).toMatchObject({
      text: spec,
      allowedBy: 'allowlist',
    });
    expect(await failure(fetch({ url: `${base}/openapi.json` }, ctx))).toMatchObject({
      type: 'EgressRefused',
      message: expect.stringMatching(/neither under an API of the site policy/),
    });
  });

  it('refuses a URL outside the API’s paths, an API without GET, a redirect to another host, and more than the cap', async () => {
    expect(
      await failure(handler({ erp: { baseUrl: base, paths: ['/docs'] } })({ url: `${base}/openapi.json` }, ctx)),
    ).toMatchObject({ type: 'EgressRefused' });
    expect(
      await failure(handler({ erp: { baseUrl: base, methods: ['POST'] } })({ url: `${base}/openapi.json` }, ctx)),
    ).toMatchObject({ type: 'EgressRefused' });
    expect(await failure(handler({ erp: { baseUrl: base } })({ url: `${base}/elsewhere` }, ctx))).toMatchObject({
      type: 'EgressRefused',
      message: expect.stringMatching(/another host/),
    });
    expect(await failure(handler({ erp: { baseUrl: base } })({ url: `${base}/missing` }, ctx))).toMatchObject({
      type: 'HttpFailed',
      message: expect.stringMatching(/answered 404/),
    });
    expect(
      await failure(handler({ erp: { baseUrl: base } })({ url: 'http://user:pw@127.0.0.1/openapi.json' }, ctx)),
    ).toMatchObject({ type: 'BadInput' });
  });

  it('refuses a specification over the cap, naming the cap and the setting that sets it', async () => {
    const url = `${base}/huge`;
    expect(await failure(handler({ erp: { baseUrl: base } }, [], { maxBytes: 64 * 1024 })({ url }, ctx))).toEqual(
      expect.objectContaining({
        type: 'HttpFailed',
        message: `the specification at ${url} is larger than 0.1 MiB (65536 bytes), the cap set by specFetch.maxBytes of the agent's config: the site raises it there, or uploads the specification as text`,
      }),
    );
    // The site policy's own setting overrides the config's, and is the one named.
    const policyCapped = handler({ erp: { baseUrl: base } }, [], {
      maxBytes: 1024 * 1024,
      specFetch: { maxBytes: 32 * 1024 },
    });
    expect(await failure(policyCapped({ url }, ctx))).toMatchObject({
      message: expect.stringMatching(
        /larger than .*\(32768 bytes\), the cap set by specFetch.maxBytes of the site policy file/,
      ),
    });
    expect(
      await handler({ erp: { baseUrl: base } }, [], { specFetch: { maxBytes: 1024 * 1024 } })({ url }, ctx),
    ).toMatchObject({
      text: 'x'.repeat(HUGE),
    });
  });

  it('refuses a specification too large to answer inline when the task names no buffer object', async () => {
    expect(await failure(handler({ erp: { baseUrl: base } })({ url: `${base}/large` }, ctx))).toMatchObject({
      type: 'BadInput',
      message: expect.stringMatching(/more than the 524288 an answer carries, and the task names no buffer object/),
    });
  });
});
