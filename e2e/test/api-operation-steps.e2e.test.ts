import { throwawayPostgresDatabase } from '@vansales/test-kit';
import { DefinitionDocument, type DefinitionDocumentInput, type HttpEndpoint } from '@vansales/definitions';
import type { OperationTable } from '@vansales/connector-agent';
import { failureText, pgConfig, sakilaReader, services, startPlatform, until, type Platform } from './support/harness';
import { startDefinitionDirect } from './support/definition-direct';
import { startErpSiteAgent } from './support/erp-site-agent';
import {
  activeCustomersBeside,
  activeCustomersDefinition,
  startSakilaUserApi,
  type SakilaUserApi,
} from './support/sakila-user-api';

/**
 * Issue 11 item 3, cloud side: a definition step that names an operation of a registered API runs it
 * through the operation's generated bundle in the sandbox (manifest and bundle read verified from the
 * registry, the API key attached by the host from the tenant's credential store), paged by the step,
 * into a cloud PostgreSQL; the run pinned to version 1 keeps working after version 2 is registered.
 */
const TENANT = 'ops-a';
const API_KEY = 'erp-key-0123456789';
const OTHER = 'ops-b';
interface AuditedCall {
  id: string;
  at: string;
  runId?: string;
  stepId?: string;
  apiId: string;
  version: number;
  operationKey: string;
  side: string;
  connectorId?: string;
  status: number;
  requestBytes: number;
  responseBytes: number;
  durationMs: number;
}
type Page = { calls: AuditedCall[]; next?: string };

describe('definition steps that call a registered API operation (cloud)', () => {
  let platform: Platform;
  let erp: SakilaUserApi;
  let dw: { name: string; url: string; drop: () => Promise<void> };
  let apiUrl: string;

  beforeAll(async () => {
    platform = await startPlatform();
    expect((await platform.api('POST', '/v1/tenants', { id: TENANT, name: TENANT })).status).toBe(201);
    erp = await startSakilaUserApi({ database: { ...services.mariadb, ...(await sakilaReader()) }, apiKey: API_KEY });
    // The cloud side names hosts, never IP literals: the stand-in API is "localhost" (allowed private in tests only).
    apiUrl = `http://localhost:${new URL(erp.url).port}`;
    dw = await throwawayPostgresDatabase('vsc_opsdw');
    platform.setCloudDatabases({ [TENANT]: { dw: pgConfig(dw.url, dw.name) } });
    const spec = await (await fetch(`${erp.url}/openapi.json`)).text();
    const registered = await platform.api<{ version: number }>(
      'POST',
      `/v1/tenants/${TENANT}/apis/sakila-erp/versions`,
      {
        spec: { text: spec },
      },
    );
    expect(registered.body).toMatchObject({ version: 1 });
    await platform.credentialStore.put(TENANT, 'sakila-erp.apiKey', { kind: 'apiKey', value: API_KEY });
  });
  afterAll(async () => {
    await erp?.close();
    await platform?.close();
    await dw?.drop();
  });

  const pull = (
    version: number,
    table: string,
    query: Record<string, string>,
    endpoint: HttpEndpoint = { kind: 'http', baseUrl: apiUrl },
  ): DefinitionDocumentInput => activeCustomersDefinition({ apiId: 'sakila-erp', version, table, query, endpoint });
  /** A connector of the tenant and its agent, the policy's API `erp` being the stand-in. */
  const siteAgent = async (name: string, operations?: (table: OperationTable) => OperationTable) => {
    const connector = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${TENANT}/connectors`, { name })
    ).body;
    const started = await startErpSiteAgent(
      platform,
      connector,
      { url: erp.url, apiKey: API_KEY, paths: ['/api/customers'] },
      operations,
    );
    return { connector, ...started };
  };
  /** A site connector's audited calls, through the REST API (every page). */
  const siteCalls = async (connectorId: string): Promise<AuditedCall[]> => {
    const all: AuditedCall[] = [];
    let cursor = '';
    do {
      const page = await platform.api<Page>(
        'GET',
        `/v1/tenants/${TENANT}/api-calls?side=site&connectorId=${connectorId}&limit=100${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      all.push(...page.body.calls);
      cursor = page.body.next ?? '';
    } while (cursor);
    return all;
  };
  /** The run's end: its status when it completed, else the failure's text (each cause's type and message). */
  const run = async (id: string, document: DefinitionDocumentInput) => {
    const handle = await startDefinitionDirect(platform, TENANT, id, DefinitionDocument.parse(document));
    return handle.result().then(
      (status) => ({ state: status.state, failure: '' }),
      (err: unknown) => ({ state: 'failed', failure: failureText(err) }),
    );
  };

  async function expectSame(table: string, storeId?: number) {
    const seen = await activeCustomersBeside(
      { ...services.mariadb, ...(await sakilaReader()) },
      dw.url,
      table,
      storeId,
    );
    expect(seen.copied).toBe(seen.source);
    expect(seen.copied).toBeGreaterThan(100);
    expect(seen.copiedDigest).toBe(seen.sourceDigest);
  }

  it('pulls every page of listActiveCustomers through the sandbox into PostgreSQL: counts and checksums match', async () => {
    const served = erp.log.length;
    const calls = (await platform.apiCalls(TENANT)).length;
    const result = await run('erp-all', pull(1, 'erp_customers', { limit: '200' }));
    expect(result).toEqual({ state: 'completed', failure: '' });
    await expectSame('erp_customers');
    // Every page reached the API with the key the host attached (the VM never had it).
    const pages = erp.log.slice(served);
    expect(pages.length).toBeGreaterThan(1);
    expect(
      pages.every((p) => p.authorized && p.status === 200 && p.path.startsWith('/api/customers/active?limit=200')),
    ).toBe(true);
    // Each call told to the audit (api_calls, written as the process writes it): which operation,
    // where, status and sizes, never parameters or bodies.
    const audited = await until('every page in the audit', async () => {
      const all = (await platform.apiCalls(TENANT)).slice(calls);
      return all.length >= pages.length && all;
    });
    expect(audited).toHaveLength(pages.length);
    expect(audited[0]).toMatchObject({
      tenantId: TENANT,
      runId: expect.any(String),
      stepId: 'pull',
      apiId: 'sakila-erp',
      version: 1,
      operationKey: 'listActiveCustomers',
      side: 'cloud',
      status: 200,
      requestBytes: 0,
      responseBytes: expect.any(Number),
      durationMs: expect.any(Number),
    });
    expect(JSON.stringify(platform.logs.lines)).not.toContain(API_KEY);
  });

  it('keeps a run pinned to version 1 working after version 2 is registered; a v2 pin gets v2’s rules', async () => {
    erp.setVersion(2);
    const spec = await (await fetch(`${erp.url}/openapi.json`)).text();
    const second = await platform.api<{ version: number }>('POST', `/v1/tenants/${TENANT}/apis/sakila-erp/versions`, {
      spec: { text: spec },
    });
    expect(second.body).toMatchObject({ version: 2 });
    const pinned = await run('erp-store-1', pull(1, 'erp_store_1', { limit: '200', store_id: '1' }));
    expect(pinned).toEqual({ state: 'completed', failure: '' });
    await expectSame('erp_store_1', 1);
    // Version 2 made store_id required: its bundle's checks refuse the same step without it, before any request.
    const served = erp.log.length;
    const v2 = await run('erp-v2-no-store', pull(2, 'erp_v2', { limit: '200' }));
    expect(v2.state).toBe('failed');
    expect(v2.failure).toMatch(/step pull: operation listActiveCustomers .*store_id/);
    expect(erp.log.length).toBe(served);
  });

  it('runs the same operation on a site’s agent: artifacts by hash, verified, the vault’s key attached there', async () => {
    erp.setVersion(1);
    const { connector, agent, fetched } = await siteAgent('site');
    const served = erp.log.length;
    const handle = await startDefinitionDirect(
      platform,
      TENANT,
      'erp-site',
      DefinitionDocument.parse(
        pull(1, 'erp_site', { limit: '200' }, { kind: 'site-api', connectorId: connector.id, api: 'erp' }),
      ),
    );
    expect((await handle.result()).state).toBe('completed');
    await expectSame('erp_site');
    expect(fetched.sort()).toEqual(['bundle:listActiveCustomers', 'manifest']);
    const pages = erp.log.slice(served);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.every((p) => p.authorized && p.status === 200)).toBe(true);
    // The key stayed on the site: not in the frames the gateway saw, nor in any log.
    expect(platform.frames.join('\n')).not.toContain(API_KEY);
    expect(JSON.stringify(platform.logs.lines)).not.toContain(API_KEY);

    // Every call the agent made is in the call audit, written by the gateway from the agent's report.
    const audited = await siteCalls(connector.id);
    expect(audited).toHaveLength(pages.length);
    for (const call of audited) {
      expect(call).toEqual({
        id: expect.any(String),
        at: expect.any(String),
        runId: handle.workflowId,
        stepId: 'pull',
        apiId: 'sakila-erp',
        version: 1,
        operationKey: 'listActiveCustomers',
        side: 'site',
        connectorId: connector.id,
        status: 200,
        requestBytes: 0,
        responseBytes: expect.any(Number),
        durationMs: expect.any(Number),
      });
      expect(call.responseBytes).toBeGreaterThan(100);
    }
    // Never a parameter: the pages carried limit and cursor, and the rows (every field checked above
    // is metadata: who, what, where, measures) hold neither their names nor a URL nor the key.
    expect(pages.slice(1).every((p) => /[?&]cursor=/.test(p.path))).toBe(true);
    const text = JSON.stringify(audited);
    for (const v of ['cursor', 'limit', '?', '/api/', API_KEY]) expect(text).not.toContain(v);
    await agent.close();
  });

  it('audits a site’s calls as its session’s: a tenant, connector or operation the agent claims is ignored', async () => {
    expect((await platform.api('POST', '/v1/tenants', { id: OTHER, name: OTHER })).status).toBe(201);
    // The site's read is real; its report claims another tenant, connector and operation.
    const { connector, agent } = await siteAgent('forging-site', (table) => ({
      ...table,
      'http.read': (input, ctx) =>
        table['http.read']!(input, {
          ...ctx,
          reportApiCalls: (report) =>
            ctx.reportApiCalls?.({
              ...report,
              tenantId: OTHER,
              connectorId: 'forged-connector',
              apiId: 'forged-api',
              operationKey: 'deleteEverything',
              calls: report.calls.map((c) => ({ ...c, tenantId: OTHER })),
            } as typeof report),
        }),
    }));
    const served = erp.log.length;
    const result = await run(
      'erp-forged',
      pull(1, 'erp_forged', { limit: '200' }, { kind: 'site-api', connectorId: connector.id, api: 'erp' }),
    );
    expect(result).toEqual({ state: 'completed', failure: '' });
    const pages = erp.log.length - served;
    // The frames did carry the claims; the rows are the session's and the task's.
    expect(platform.frames.some((f) => f.includes('forged-connector'))).toBe(true);
    const audited = await siteCalls(connector.id);
    expect(audited).toHaveLength(pages);
    expect(new Set(audited.map((c) => `${c.connectorId} ${c.apiId} ${c.operationKey}`))).toEqual(
      new Set([`${connector.id} sakila-erp listActiveCustomers`]),
    );
    expect((await platform.api<Page>('GET', `/v1/tenants/${OTHER}/api-calls`)).body.calls).toEqual([]);
    const forged = await platform.api<Page>('GET', `/v1/tenants/${TENANT}/api-calls?connectorId=forged-connector`);
    expect(forged.body.calls).toEqual([]);
    await agent.close();
  });
});
