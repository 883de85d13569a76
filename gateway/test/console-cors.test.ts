import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app';
import { documentOnlyDeps } from '../src/openapi-document';
import { loadGatewayConfig } from '../src/config';

const CONSOLE = 'http://127.0.0.1:8710';
const route = '/v1/tenants/acme/connectors';

describe("the web console's origins may call the REST API from a browser (VSC_CONSOLE_ORIGINS)", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp({ ...documentOnlyDeps(), consoleOrigins: [CONSOLE] });
    await app.ready();
  });
  afterAll(async () => app?.close());

  it('answers a preflight from the console before auth, naming the Authorization header', async () => {
    const res = await app.inject({
      method: 'OPTIONS',
      url: route,
      headers: {
        origin: CONSOLE,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(CONSOLE);
    expect(String(res.headers['access-control-allow-headers'])).toContain('authorization');
  });

  it('marks refusals too, so the console can say why (401 without a token)', async () => {
    const res = await app.inject({ method: 'GET', url: route, headers: { origin: CONSOLE } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['access-control-allow-origin']).toBe(CONSOLE);
  });

  it('gives another origin no CORS header and no preflight answer', async () => {
    const evil = 'http://127.0.0.1:9999';
    const pre = await app.inject({
      method: 'OPTIONS',
      url: route,
      headers: { origin: evil, 'access-control-request-method': 'GET' },
    });
    expect(pre.statusCode).not.toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    const get = await app.inject({ method: 'GET', url: route, headers: { origin: evil } });
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('reads the origins from config, as origins, and refuses a list with a non-URL', () => {
    const base = {
      VSC_ADMIN_TOKEN: 'x'.repeat(40),
      VSC_PAYLOAD_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
      VSC_BUFFER_KEYS: `b1:${Buffer.alloc(32, 8).toString('base64')}`,
      VSC_BUFFER_TOKEN_SECRET: Buffer.alloc(32, 9).toString('base64'),
      VSC_GATEWAY_CLUSTER: 'off',
    };
    expect(
      loadGatewayConfig({ ...base, VSC_CONSOLE_ORIGINS: ' http://a.test:8710/ , https://b.test ' }).VSC_CONSOLE_ORIGINS,
    ).toEqual(['http://a.test:8710', 'https://b.test']);
    expect(() => loadGatewayConfig({ ...base, VSC_CONSOLE_ORIGINS: 'console.test' })).toThrow(/VSC_CONSOLE_ORIGINS/);
  });
});
