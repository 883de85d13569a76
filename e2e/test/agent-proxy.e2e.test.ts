import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeTestPki } from '@vansales/test-kit';
import { extractStepWorkflow } from '@vansales/workflows';
import { sakilaDatabase, sakilaReader, services, startPlatform, until, type Platform } from './support/harness';
import { startSiteNetwork, type SiteNetwork } from './support/proxy-netns';
import { startTlsInspectingProxy } from './support/tls-inspecting-proxy';

const AGENT_MAIN = resolve(__dirname, '../../connector-agent/dist/main.js');

/** Waits for `what`; a failure carries the agent's log, which says why it did not get there. */
async function orLog<T>(what: Promise<T>, log: () => string | string[]): Promise<T> {
  try {
    return await what;
  } catch (err) {
    const text = log();
    throw new Error(`${(err as Error).message}\nagent log:\n${Array.isArray(text) ? text.join('\n') : text}`);
  }
}

/** Resolves when `p` does, fails after `ms`. */
const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no ${what} in ${ms} ms`)), ms)),
  ]);

/** CONNECT lines Tinyproxy logged for a host:port. */
const connects = (log: string, target: string) =>
  log.split('\n').filter((l) => l.includes(`CONNECT ${target} `)).length;

/**
 * The agent behind a corporate proxy, for real: the built agent runs in a network namespace whose
 * only way out is Debian's Tinyproxy (Basic authentication) on the host; the gateway serves TLS with
 * a certificate of a private CA that only the agent's tlsCaFile makes valid, on the host's loopback.
 */
describe('agent behind an HTTPS proxy (network namespace, Tinyproxy, private CA)', () => {
  let platform: Platform;
  let site: SiteNetwork;
  let tenantId: string;
  let work: string;
  let pki: ReturnType<typeof makeTestPki>;
  let gatewayTarget: string;
  let siteDb: { host: string; port: number };
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'vsc-proxy-'));
    pki = makeTestPki(work, 'IP:127.0.0.1');
    site = await startSiteNetwork();
    platform = await startPlatform({ tls: { certFile: pki.serverCert, keyFile: pki.serverKey } });
    gatewayTarget = new URL(platform.gatewayWsUrl).host;
    tenantId = `t-${randomBytes(4).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Proxy' });
    // The site's database is on the site's network: reached without the proxy.
    siteDb = { host: site.hostAddress, port: await site.forward(services.mariadb.port) };
  }, 120_000);
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await platform?.close();
    await site?.close();
  });

  const connector = async (name: string) =>
    (await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name })).body;

  /** The built agent (`mini-connector run`) inside the namespace, with the given environment and agent.json. */
  const runInSite = async (
    c: { apiKey: string },
    env: Record<string, string>,
    extra: Record<string, unknown> = {},
  ): Promise<{ output: () => string; child: ChildProcess }> => {
    const dir = mkdtempSync(join(work, 'agent-'));
    const reader = await sakilaReader();
    writeFileSync(
      join(dir, 'agent.json'),
      JSON.stringify({
        gatewayUrl: platform.gatewayWsUrl,
        apiKey: c.apiKey,
        identityKey: platform.machineKey(`site-${dir}`),
        tlsCaFile: pki.ca,
        reconnect: { initialDelayMs: 200, maxDelayMs: 2000 },
        databases: { sakila: { ...sakilaDatabase(reader), ...siteDb } },
        ...extra,
      }),
    );
    const child = site.spawnInside(process.execPath, [AGENT_MAIN, 'run', '--config', join(dir, 'agent.json')], {
      PATH: process.env.PATH,
      ...env,
    });
    children.push(child);
    let text = '';
    child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
    return { output: () => text, child };
  };

  it('connects through the proxy only, runs a query and an extract (buffer calls through it too)', async () => {
    const c = await connector('behind-proxy');
    const before = connects(site.proxy.log(), gatewayTarget);
    const started = Date.now();
    const agent = await runInSite(c, { HTTPS_PROXY: site.proxy.url(), NO_PROXY: 'localhost,.internal.example' });
    await orLog(
      until('the agent to connect through the proxy', () => platform.gateway.hub.isOnline(c.id), 60_000),
      agent.output,
    );
    // A figure for connector-agent/README.md (process start included), not an assertion.
    process.stderr.write(`[agent-proxy] online through the proxy ${Date.now() - started} ms after start\n`);

    const res = await platform.api<{ result?: { rows: unknown[][] } }>('POST', `/v1/tenants/${tenantId}/queries`, {
      connectorId: c.id,
      database: 'sakila',
      sql: 'SELECT COUNT(*) AS n FROM actor',
    });
    expect(res.body.result?.rows).toEqual([[200]]);

    const extracted = await platform.temporal.workflow.execute(extractStepWorkflow, {
      taskQueue: platform.workflowTaskQueue,
      workflowId: `proxy-extract-${randomBytes(4).toString('hex')}`,
      args: [
        {
          tenantId,
          source: { placement: 'connector', connectorId: c.id, database: 'sakila' },
          table: { name: 'actor' },
          chunkRows: 50,
        },
      ],
    });
    expect(extracted.chunkCount).toBe(4);
    process.stderr.write(`[agent-proxy] extract of actor (4 chunks) ${Date.now() - started} ms after start\n`);

    // The challenge and the WebSocket each opened a tunnel; the buffer calls reuse a kept-alive one
    // (or open more). The namespace has no other way to the gateway, so the extract's chunks went
    // through the proxy too (the NO_PROXY test below shows a direct attempt failing there).
    const log = site.proxy.log();
    expect(connects(log, gatewayTarget) - before).toBeGreaterThanOrEqual(2);
    expect(agent.output()).toContain(`through the proxy http://${site.hostAddress}:${site.proxy.port}`);
    expect(agent.output()).not.toContain(site.proxy.password);
    agent.child.kill('SIGTERM');
  });

  it('with a wrong proxy password: a clear message naming the proxy, never the password, and no session', async () => {
    const c = await connector('wrong-password');
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const agent = await runInSite(c, { HTTPS_PROXY: site.proxy.url(wrong) });
    await until('the refusal in the agent log', () => /refused the agent's proxy credentials/.test(agent.output()));
    expect(agent.output()).toMatch(
      new RegExp(
        `the proxy http://${site.hostAddress.replace(/\./g, '\\.')}:${site.proxy.port} refused the agent's proxy credentials \\(HTTP 40[17]\\)`,
      ),
    );
    expect(agent.output()).not.toContain(wrong);
    expect(agent.output()).not.toContain(site.proxy.password);
    expect(platform.gateway.hub.isOnline(c.id)).toBe(false);
    agent.child.kill('SIGTERM');
  });

  it('with NO_PROXY matching the gateway it goes direct: in the namespace that is unreachable, and the proxy sees nothing', async () => {
    const c = await connector('no-proxy');
    const before = connects(site.proxy.log(), gatewayTarget);
    // A CIDR entry, as many sites write it.
    const agent = await runInSite(c, { HTTPS_PROXY: site.proxy.url(), NO_PROXY: '127.0.0.0/8' });
    await until('a direct attempt to fail', () =>
      /cannot reach the gateway at wss:\/\/127\.0\.0\.1:\d+\/v1\/agent\/connect: ECONNREFUSED/.test(agent.output()),
    );
    expect(agent.output()).not.toContain('through the proxy');
    expect(connects(site.proxy.log(), gatewayTarget)).toBe(before);
    expect(platform.gateway.hub.isOnline(c.id)).toBe(false);
    agent.child.kill('SIGTERM');
  });

  it('agent.json proxy beats the environment; noProxy there sends it direct (on the host, where direct works)', async () => {
    const c = await connector('explicit');
    const before = connects(site.proxy.log(), gatewayTarget);
    const reader = await sakilaReader();
    const agent = platform.startAgent({
      apiKey: c.apiKey,
      tlsCaFile: pki.ca,
      proxy: {
        url: `http://${site.hostAddress}:${site.proxy.port}`,
        username: site.proxy.user,
        password: site.proxy.password,
        noProxy: ['127.0.0.1'],
      },
      databases: { sakila: sakilaDatabase(reader) },
    });
    await orLog(within(agent.welcomed, 30_000, 'welcome'), agent.logLines);
    expect(connects(site.proxy.log(), gatewayTarget)).toBe(before);
    await agent.close();

    // The same setting without noProxy: through the proxy, password from the setting (a vault entry in agent.json).
    const c2 = await connector('explicit-proxied');
    const proxied = platform.startAgent({
      apiKey: c2.apiKey,
      tlsCaFile: pki.ca,
      proxy: {
        url: `http://${site.hostAddress}:${site.proxy.port}`,
        username: site.proxy.user,
        password: site.proxy.password,
      },
    });
    await orLog(within(proxied.welcomed, 30_000, 'welcome'), proxied.logLines);
    expect(connects(site.proxy.log(), gatewayTarget)).toBeGreaterThan(before);
    await proxied.close();
  });

  it('through the proxy, the gateway certificate is valid only with the configured CA file', async () => {
    const c = await connector('no-ca');
    const agent = platform.startAgent({
      apiKey: c.apiKey,
      proxy: {
        url: `http://${site.hostAddress}:${site.proxy.port}`,
        username: site.proxy.user,
        password: site.proxy.password,
      },
    });
    await until('a certificate refusal', () =>
      agent
        .logLines()
        .some((l) => /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/.test(l)),
    );
    expect(platform.gateway.hub.isOnline(c.id)).toBe(false);
    await agent.close();
  });

  it("survives a TLS-inspecting proxy that re-signs the gateway, given that proxy's CA (and only then)", async () => {
    // The company's inspection CA, another than the gateway's.
    const inspection = makeTestPki(mkdtempSync(join(work, 'inspection-')), 'IP:127.0.0.1');
    const proxy = await startTlsInspectingProxy({
      certFile: inspection.serverCert,
      keyFile: inspection.serverKey,
      upstreamCa: pki.ca,
    });
    try {
      const c = await connector('inspected');
      const reader = await sakilaReader();
      const agent = platform.startAgent({
        apiKey: c.apiKey,
        tlsCaFile: inspection.ca,
        proxy: { url: proxy.url },
        databases: { sakila: sakilaDatabase(reader) },
      });
      await orLog(within(agent.welcomed, 30_000, 'welcome'), agent.logLines);
      const res = await platform.api<{ result?: { rows: unknown[][] } }>('POST', `/v1/tenants/${tenantId}/queries`, {
        connectorId: c.id,
        database: 'sakila',
        sql: 'SELECT COUNT(*) AS n FROM actor',
      });
      expect(res.body.result?.rows).toEqual([[200]]);
      expect(proxy.connects).toContain(gatewayTarget);
      await agent.close();

      // Trusting the gateway's own CA is not enough: what arrives is signed by the inspection CA.
      const c2 = await connector('inspected-wrong-ca');
      const refused = platform.startAgent({ apiKey: c2.apiKey, tlsCaFile: pki.ca, proxy: { url: proxy.url } });
      await until('a certificate refusal', () =>
        refused.logLines().some((l) => /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED/.test(l)),
      );
      expect(platform.gateway.hub.isOnline(c2.id)).toBe(false);
      await refused.close();
    } finally {
      await proxy.close();
    }
  });
});
