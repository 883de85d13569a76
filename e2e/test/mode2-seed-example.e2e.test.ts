import { throwawayPostgresDatabase } from '@vansales/test-kit';
import type { HttpEndpoint } from '@vansales/definitions';
import { Client } from 'pg';
import { pgConfig, sakilaReader, services, startPlatform, until, type Platform } from './support/harness';
import { publishAndRun, startDefinitionRun, untilRunEnds, type RunView } from './support/definition-rest';
import { startErpSiteAgent } from './support/erp-site-agent';
import {
  activeCustomersBeside,
  activeCustomersDefinition,
  startSakilaUserApi,
  type SakilaUserApi,
} from './support/sakila-user-api';

/**
 * The seed's Mode 2 example end to end (issue 11 item 6), through REST only, on real services: a
 * user's API on the site network (the Sakila user API) registered with `accessibility: site` from
 * its own /openapi.json fetched by the site's agent, its operations listed; a definition whose
 * operation step names no endpoint pulls active customers through the agent into a cloud PostgreSQL;
 * the same API registered with `accessibility: internet` at an internet-style address is called by
 * the cloud worker; then the owner changes the API, refresh flags the new version as breaking with
 * the definition and step named, and the definition pinned to version 1 keeps working.
 */
const TENANT = 'mode2-seed';
const T = `/v1/tenants/${TENANT}`;
const API_KEY = 'erp-key-mode2-0123456789';
/** Store 1's customers: the parameter version 2 makes required is given from the start. */
const STORE = 1;

describe('the seed’s Mode 2 example through REST: register, route by accessibility, change, stay pinned', () => {
  let platform: Platform;
  let erp: SakilaUserApi;
  let dw: { name: string; url: string; drop: () => Promise<void> };
  let connectorId: string;
  let sakila: { host: string; port: number; user: string; password: string };

  beforeAll(async () => {
    // Default gateway settings: its own fetch refuses loopback, so only the agent reaches the site API.
    platform = await startPlatform();
    expect((await platform.api('POST', '/v1/tenants', { id: TENANT, name: 'Mode 2' })).status).toBe(201);
    sakila = { ...services.mariadb, ...(await sakilaReader()) };
    erp = await startSakilaUserApi({ database: sakila, apiKey: API_KEY });
    dw = await throwawayPostgresDatabase('vsc_mode2');
    platform.setCloudDatabases({ [TENANT]: { dw: pgConfig(dw.url, dw.name) } });
    const connector = (await platform.api<{ id: string; apiKey: string }>('POST', `${T}/connectors`, { name: 'hq' }))
      .body;
    connectorId = connector.id;
    await startErpSiteAgent(platform, connector, { url: erp.url, apiKey: API_KEY, paths: ['/openapi.json', '/api'] });
  }, 120_000);
  afterAll(async () => {
    await erp?.close();
    await platform?.close();
    await dw?.drop();
  });

  /** A definition pulling store 1's active customers through `apiId`'s v1 operation into dw (routed when no endpoint). */
  const pullActive = (apiId: string, table: string, endpoint?: HttpEndpoint) =>
    activeCustomersDefinition({ apiId, version: 1, table, query: { limit: '200', store_id: String(STORE) }, endpoint });

  async function expectLoaded(table: string) {
    const seen = await activeCustomersBeside(sakila, dw.url, table, STORE);
    expect(seen.source).toBeGreaterThan(100);
    expect(seen.copied).toBe(seen.source);
    expect(seen.copiedDigest).toBe(seen.sourceDigest);
  }
  const completed = (view: RunView) => {
    if (view.status !== 'completed') throw new Error(`run ${view.runId} ${view.status}: ${JSON.stringify(view.run)}`);
    return view.run!;
  };

  it('registers the site API from its own document through the agent, with accessibility site, and lists its operations', async () => {
    // Accessibility is checked whole before anything is fetched: each kind names what it needs.
    const noSite = await platform.api<{ error: { message: string } }>('POST', `${T}/apis/sakila-erp/versions`, {
      accessibility: 'site',
      spec: { url: `${erp.url}/openapi.json`, connectorId },
    });
    expect(noSite.status).toBe(400);
    expect(noSite.body.error.message).toMatch(/accessibility site needs site: \{ connectorId, api \}/);
    const internetWithSite = await platform.api<{ error: { message: string } }>(
      'POST',
      `${T}/apis/sakila-erp/versions`,
      {
        accessibility: 'internet',
        site: { connectorId, api: 'erp' },
        internet: { baseUrl: 'https://erp.example.com' },
        spec: { url: `${erp.url}/openapi.json`, connectorId },
      },
    );
    expect(internetWithSite.status).toBe(400);
    expect(internetWithSite.body.error.message).toMatch(/internet takes no site: say both/);
    // Nothing was registered by the refusals.
    expect((await platform.api<unknown[]>('GET', `${T}/apis`)).body).toEqual([]);

    const registered = await platform.api<Record<string, unknown>>('POST', `${T}/apis/sakila-erp/versions`, {
      name: 'Sakila ERP',
      accessibility: 'site',
      site: { connectorId, api: 'erp' },
      spec: { url: `${erp.url}/openapi.json`, connectorId },
    });
    expect(registered).toMatchObject({
      status: 200,
      body: { version: 1, created: true, operationCount: 2, accessibility: 'site', site: { connectorId, api: 'erp' } },
    });
    // The agent fetched it: the spec request reached the API from the site.
    expect(erp.log.some((r) => r.path === '/openapi.json' && r.status === 200)).toBe(true);

    const apis = await platform.api<{ id: string; accessibility?: string; site?: unknown }[]>('GET', `${T}/apis`);
    expect(apis.body).toEqual([
      expect.objectContaining({ id: 'sakila-erp', accessibility: 'site', site: { connectorId, api: 'erp' } }),
    ]);
    const ops = await platform.api<{ operations: { key: string; path: string }[] }>(
      'GET',
      `${T}/apis/sakila-erp/versions/1/operations`,
    );
    expect(ops.body.operations.map((o) => [o.key, o.path])).toEqual([
      ['listActiveCustomers', '/api/customers/active'],
      ['getSalesSummary', '/api/sales/summary'],
    ]);
  });

  it('refuses a cloud endpoint for the site-only API at validation, naming the step', async () => {
    const refused = await platform.api<{ error: { message: string; issues: { stepId?: string; code: string }[] } }>(
      'POST',
      `${T}/definitions`,
      {
        id: 'erp-from-cloud',
        document: pullActive('sakila-erp', 'never', { kind: 'http', baseUrl: 'https://erp.example.com' }),
      },
    );
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toMatch(
      /step "pull": API sakila-erp is reachable only on the site of connector/,
    );
    expect(refused.body.error.issues).toContainEqual(
      expect.objectContaining({ stepId: 'pull', code: 'api-accessibility' }),
    );
  });

  it('pulls active customers through the agent into the cloud PostgreSQL: routed to the site, counts and checksum match', async () => {
    const served = erp.log.length;
    const run = completed(await publishAndRun(platform, TENANT, 'erp-active', pullActive('sakila-erp', 'erp_active')));
    expect(run.steps.pull).toMatchObject({
      state: 'completed',
      placement: { kind: 'site', connectorId },
      route: expect.stringMatching(/^API sakila-erp is reachable only on its site, so its agent calls it; site API to/),
    });
    await expectLoaded('erp_active');
    // Every page came from the site with the vault's key; the key never crossed the socket or reached a log.
    const pages = erp.log.slice(served);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.every((p) => p.authorized && p.status === 200 && p.path.startsWith('/api/customers/active'))).toBe(
      true,
    );
    expect(platform.frames.join('\n')).not.toContain(API_KEY);
    expect(JSON.stringify(platform.logs.lines)).not.toContain(API_KEY);
  });

  it('calls the same API at its internet address from the cloud worker when it is registered with accessibility internet', async () => {
    // The "internet" address names a host (the cloud refuses IP literals); the test's egress allows loopback.
    const baseUrl = `http://localhost:${new URL(erp.url).port}`;
    const spec = await (await fetch(`${erp.url}/openapi.json`)).text();
    const registered = await platform.api('POST', `${T}/apis/sakila-erp-net/versions`, {
      name: 'Sakila ERP (internet)',
      accessibility: 'internet',
      internet: { baseUrl },
      spec: { text: spec },
    });
    expect(registered).toMatchObject({
      status: 200,
      body: { version: 1, accessibility: 'internet', internet: { baseUrl } },
    });
    // The cloud attaches the key of the API's security scheme from the tenant's credential store.
    const stored = await platform.api('PUT', `${T}/credentials/sakila-erp-net.apiKey`, {
      credential: { kind: 'apiKey', value: API_KEY },
    });
    expect(stored.status).toBe(200);
    const calls = (await platform.apiCalls(TENANT)).length;
    const run = completed(
      await publishAndRun(platform, TENANT, 'erp-active-net', pullActive('sakila-erp-net', 'erp_active_net')),
    );
    expect(run.steps.pull).toMatchObject({
      state: 'completed',
      placement: { kind: 'cloud' },
      route: expect.stringMatching(/^API sakila-erp-net is reachable only from the internet, so the cloud calls it/),
    });
    await expectLoaded('erp_active_net');
    // The audit says the cloud made each call, for this run's step.
    const audited = await until('the cloud calls in the audit', async () => {
      const all = (await platform.apiCalls(TENANT)).slice(calls);
      return all.length > 1 && all;
    });
    expect(audited.every((c) => c.side === 'cloud' && c.apiId === 'sakila-erp-net' && c.stepId === 'pull')).toBe(true);
  });

  it('routes an API reachable both ways by the step’s other end: into the cloud database, the cloud calls it', async () => {
    const baseUrl = `http://localhost:${new URL(erp.url).port}`;
    const spec = await (await fetch(`${erp.url}/openapi.json`)).text();
    const registered = await platform.api('POST', `${T}/apis/sakila-erp-both/versions`, {
      accessibility: 'both',
      site: { connectorId, api: 'erp' },
      internet: { baseUrl },
      spec: { text: spec },
    });
    expect(registered).toMatchObject({
      status: 200,
      body: { accessibility: 'both', site: { connectorId, api: 'erp' } },
    });
    expect(
      (
        await platform.api('PUT', `${T}/credentials/sakila-erp-both.apiKey`, {
          credential: { kind: 'apiKey', value: API_KEY },
        })
      ).status,
    ).toBe(200);
    const run = completed(
      await publishAndRun(platform, TENANT, 'erp-active-both', pullActive('sakila-erp-both', 'erp_active_both')),
    );
    expect(run.steps.pull).toMatchObject({
      placement: { kind: 'cloud' },
      route: expect.stringMatching(
        /^API sakila-erp-both is reachable on its site and from the internet; the step's other end is in the cloud, so the cloud calls it/,
      ),
    });
    await expectLoaded('erp_active_both');
  });

  it('flags the changed API as breaking, naming the definition and step; the definition pinned to v1 still runs', async () => {
    erp.setVersion(2);
    try {
      const refreshed = await platform.api<{
        version: number;
        created: boolean;
        accessibility?: string;
        changesFromPrevious?: {
          breaking: boolean;
          affectedOperations: string[];
          definitions: {
            definitionId: string;
            steps: { stepId: string; operationKey: string; pinnedVersion: number }[];
          }[];
        };
      }>('POST', `${T}/apis/sakila-erp/refresh`);
      expect(refreshed).toMatchObject({ status: 200, body: { version: 2, created: true, accessibility: 'site' } });
      const changes = refreshed.body.changesFromPrevious!;
      expect(changes.breaking).toBe(true);
      expect(changes.affectedOperations).toEqual(['getSalesSummary', 'listActiveCustomers']);
      expect(changes.definitions).toContainEqual(
        expect.objectContaining({
          definitionId: 'erp-active',
          steps: [expect.objectContaining({ stepId: 'pull', operationKey: 'listActiveCustomers', pinnedVersion: 1 })],
        }),
      );
      const ops = await platform.api<{ operations: { key: string }[] }>(
        'GET',
        `${T}/apis/sakila-erp/versions/2/operations`,
      );
      expect(ops.body.operations.map((o) => o.key)).toEqual(['listActiveCustomers']);

      // The running definition stays on version 1: its table emptied, it loads again through the agent.
      const pg = new Client({ connectionString: dw.url });
      await pg.connect();
      await pg.query('DROP TABLE erp_active');
      await pg.end();
      const runId = await startDefinitionRun(platform, TENANT, 'erp-active');
      const run = completed(await untilRunEnds(platform, TENANT, 'erp-active', runId));
      expect(run.version).toBe(1);
      expect(run.steps.pull).toMatchObject({ state: 'completed', placement: { kind: 'site', connectorId } });
      await expectLoaded('erp_active');
    } finally {
      erp.setVersion(1);
    }
  });
});
