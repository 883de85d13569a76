import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { checkApiKey } from '@vansales/protocol';
import { admin } from '@vansales/infra';
import { startPlatform, type Platform } from './support/harness';

describe('./vsc tenant|connector|key|audit against a real gateway', () => {
  let platform: Platform;
  let target: { gatewayUrl: string; adminToken: string };

  const run = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await admin(
      argv,
      target,
      (s) => out.push(s),
      (s) => err.push(s),
    );
    return { code, out: out.join(''), err: err.join('') };
  };

  beforeAll(async () => {
    platform = await startPlatform();
    target = {
      gatewayUrl: platform.gatewayWsUrl.replace(/^ws/, 'http').replace('/v1/agent/connect', ''),
      adminToken: platform.adminToken,
    };
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('creates a tenant and a connector, prints a valid key once, issues and revokes keys', async () => {
    const tenant = `t-${randomBytes(3).toString('hex')}`;
    expect((await run('tenant', 'create', tenant, 'Acme')).code).toBe(0);
    const created = await run('connector', 'create', tenant, 'hq');
    expect(created.code).toBe(0);
    const connector = JSON.parse(created.out) as { id: string; apiKey: string };
    expect(checkApiKey(connector.apiKey)).toMatchObject({ ok: true, key: { tenantId: tenant } });
    const listed = JSON.parse((await run('connector', 'list', tenant)).out) as { id: string; apiKey?: string }[];
    expect(listed.map((c) => c.id)).toEqual([connector.id]);
    expect(listed[0]?.apiKey).toBeUndefined();
    const issued = JSON.parse((await run('key', 'issue', tenant, connector.id)).out) as { apiKey: string };
    expect(issued.apiKey).not.toBe(connector.apiKey);
    expect(JSON.parse((await run('key', 'revoke', tenant, connector.id)).out)).toEqual({
      revoked: 2,
      disconnected: false,
    });
    expect(JSON.parse((await run('audit', 'verify', tenant, connector.id)).out)).toMatchObject({ ok: true, count: 0 });
  });

  it('says what is wrong: unknown tenant, bad usage, wrong token, gateway down', async () => {
    const missing = await run('connector', 'create', 'no-such-tenant', 'x');
    expect(missing).toMatchObject({ code: 1, err: 'tenant no-such-tenant not found\n' });
    expect((await run('key', 'issue')).code).toBe(2);
    target = { ...target, adminToken: 'wrong' };
    expect((await run('connector', 'list', 'x')).err).toMatch(/needs Authorization: Bearer <admin token>/);
    const closedPort = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    target = { gatewayUrl: `http://127.0.0.1:${closedPort}`, adminToken: 'x' };
    expect((await run('connector', 'list', 'x')).err).toBe(
      `cannot reach the gateway at http://127.0.0.1:${closedPort}: ECONNREFUSED\n`,
    );
  });
});
