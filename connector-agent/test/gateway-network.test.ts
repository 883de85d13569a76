import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCACertificates } from 'node:tls';
import { generateApiKey } from '@vansales/protocol';
import {
  createGatewayNetwork,
  parseAgentConfig,
  honouringRetryAfter,
  parseNoProxy,
  ProxyConfigError,
  proxyFor,
  retryAfterMs,
  RETRY_AFTER_MAX_MS,
} from '../src';

const GATEWAY = 'wss://gw.vansales.example:8443/v1/agent/connect';

describe('NO_PROXY as the common tools read it', () => {
  const cases: [string, string, number, boolean][] = [
    ['*', 'anything.example', 443, true],
    ['example.com', 'example.com', 443, true],
    ['example.com', 'gw.example.com', 443, true],
    ['example.com', 'notexample.com', 443, false],
    ['.example.com', 'gw.example.com', 443, true],
    ['.example.com', 'example.com', 443, true],
    ['*.example.com', 'a.b.example.com', 443, true],
    ['EXAMPLE.com', 'Gw.Example.COM', 443, true],
    ['gw.example.com:8443', 'gw.example.com', 8443, true],
    ['gw.example.com:8443', 'gw.example.com', 443, false],
    ['10.1.2.3', '10.1.2.3', 443, true],
    ['10.1.2.3', '10.1.2.4', 443, false],
    ['10.0.0.0/8', '10.200.3.4', 443, true],
    ['10.0.0.0/8', '11.0.0.1', 443, false],
    ['192.168.0.0/16:443', '192.168.4.4', 443, true],
    ['192.168.0.0/16:443', '192.168.4.4', 8443, false],
    ['fd00::/8', '[fd12::1]', 443, true],
    ['::1', '[::1]', 443, true],
    ['[::1]:8443', '::1', 8443, true],
    ['10.0.0.0/8', 'ten.example', 443, false],
    ['localhost, .corp.example  other.example', 'x.corp.example', 443, true],
    ['', 'example.com', 443, false],
  ];
  it.each(cases)('%j with %s:%d → direct %s', (list, host, port, direct) => {
    expect(parseNoProxy(list).matches(host, port)).toBe(direct);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-12-03T22:00:00Z');
  it('reads seconds and HTTP dates, caps them, ignores what it cannot read', () => {
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs(['3', '9'], now)).toBe(3000);
    expect(retryAfterMs('Thu, 03 Dec 2026 22:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Thu, 03 Dec 2026 21:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('86400', now)).toBe(RETRY_AFTER_MAX_MS);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });

  it('sends again after the wait a 429/503 asks for (artifact downloads), and gives up on a wait too long', async () => {
    const answers = [
      { status: 503, headers: { 'retry-after': '1' } },
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 200, headers: {} },
    ];
    const sent: number[] = [];
    const answer = await honouringRetryAfter(async () => (sent.push(Date.now()), answers[sent.length - 1]!));
    expect(answer.status).toBe(200);
    expect(sent).toHaveLength(3);
    expect((sent[2] as number) - (sent[0] as number)).toBeGreaterThanOrEqual(2000);

    let calls = 0;
    const long = await honouringRetryAfter(async () => (calls++, { status: 429, headers: { 'retry-after': '3600' } }));
    expect(long.status).toBe(429);
    expect(calls).toBe(1);
  });
});

describe('which proxy the gateway calls take', () => {
  it('takes HTTPS_PROXY (lower case first) and its user info, leaving the credentials out of the URL', () => {
    const p = proxyFor(GATEWAY, undefined, {
      HTTPS_PROXY: 'http://other:1',
      https_proxy: 'http://svc%40corp:p%3Ass@proxy.corp:3128',
    });
    expect(p?.url.href).toBe('http://proxy.corp:3128/');
    expect(p?.username).toBe('svc@corp');
    expect(p?.password).toBe('p:ss');
  });

  it('reads a proxy written without a scheme as http://', () => {
    expect(proxyFor(GATEWAY, undefined, { HTTPS_PROXY: 'proxy.corp:3128' })?.url.href).toBe('http://proxy.corp:3128/');
  });

  it('goes direct for NO_PROXY, and never proxies plain ws:// (a gateway on this machine)', () => {
    expect(proxyFor(GATEWAY, undefined, { HTTPS_PROXY: 'http://p:1', NO_PROXY: '.vansales.example' })).toBeUndefined();
    expect(
      proxyFor(GATEWAY, undefined, { HTTPS_PROXY: 'http://p:1', no_proxy: 'gw.vansales.example:8443' }),
    ).toBeUndefined();
    expect(proxyFor('ws://127.0.0.1:8080/v1/agent/connect', undefined, { HTTPS_PROXY: 'http://p:1' })).toBeUndefined();
  });

  it("lets agent.json's proxy win over the environment, with its own noProxy (the environment's is ignored)", () => {
    const env = { HTTPS_PROXY: 'http://env-proxy:1', NO_PROXY: '*' };
    const p = proxyFor(GATEWAY, { url: 'http://set-proxy:3128', username: 'u', password: 'vault-pw' }, env);
    expect(p?.url.host).toBe('set-proxy:3128');
    expect(p?.password).toBe('vault-pw');
    expect(
      proxyFor(GATEWAY, { url: 'http://set-proxy:3128', noProxy: ['10.0.0.0/8', 'vansales.example'] }, {}),
    ).toBeUndefined();
  });

  it('refuses a proxy it cannot use with a message naming the setting', () => {
    expect(() => proxyFor(GATEWAY, undefined, { HTTPS_PROXY: 'socks5://p:1080' })).toThrow(
      /HTTPS_PROXY must be an http:\/\/ or https:\/\/ proxy/,
    );
    expect(() => proxyFor(GATEWAY, undefined, { HTTPS_PROXY: 'http://[bad' })).toThrow(ProxyConfigError);
  });

  it('prints the proxy without its credentials', () => {
    const network = createGatewayNetwork(
      { gatewayUrl: GATEWAY },
      { HTTPS_PROXY: 'http://user:topsecret@proxy.corp:3128' },
    );
    expect(network.proxy).toBe('http://proxy.corp:3128');
    expect(JSON.stringify(network.proxy)).not.toContain('topsecret');
  });
});

describe('agent.json proxy and CA settings', () => {
  const base = { gatewayUrl: GATEWAY, apiKey: generateApiKey('acme') };

  it('accepts a proxy with a user and a password, and refuses a password in its URL', () => {
    const config = parseAgentConfig({
      ...base,
      proxy: { url: 'http://proxy.corp:3128', username: 'u', password: 'p', noProxy: '10.0.0.0/8' },
    });
    expect(config.proxy?.url).toBe('http://proxy.corp:3128');
    expect(() => parseAgentConfig({ ...base, proxy: { url: 'http://u:p@proxy.corp:3128' } })).toThrow(
      /proxy\.url: must not carry a password/,
    );
    expect(() => parseAgentConfig({ ...base, proxy: { url: 'socks5://proxy.corp:1080' } })).toThrow(/proxy\.url/);
  });

  it("adds tlsCaFile to Node's roots instead of replacing them, and names a file that is not PEM", () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsc-ca-'));
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    writeFileSync(join(dir, 'ca.pem'), pem);
    const network = createGatewayNetwork({ gatewayUrl: GATEWAY, tlsCaFile: join(dir, 'ca.pem') }, {});
    expect(network.ca).toHaveLength(getCACertificates('default').length + 1);
    expect(network.ca?.at(-1)).toBe(pem);
    writeFileSync(join(dir, 'not.pem'), 'hello');
    expect(() => createGatewayNetwork({ gatewayUrl: GATEWAY, tlsCaFile: join(dir, 'not.pem') }, {})).toThrow(
      /holds no PEM certificate/,
    );
    expect(() => createGatewayNetwork({ gatewayUrl: GATEWAY, tlsCaFile: join(dir, 'missing.pem') }, {})).toThrow(
      /cannot read tlsCaFile .*ENOENT/,
    );
  });
});
