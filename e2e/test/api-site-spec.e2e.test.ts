import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiSpecFetchWorkflow } from '@vansales/workflows';
import { sakilaReader, services, startPlatform, type Platform } from './support/harness';
import { saveHistory } from './support/history-recorder';
import { startSakilaUserApi, type SakilaUserApi } from './support/sakila-user-api';

/**
 * A specification on a site's network is fetched by that site's agent (issue 11 items 1 and 6): the
 * seed's Mode 2 API listens where only the agent reaches it (the gateway's own fetch refuses private
 * addresses here), its /openapi.json is registered through REST via the agent, operations listed;
 * the agent fetches only what its site allows.
 */
describe('specifications fetched by the site agent (REST, real agent)', () => {
  let platform: Platform;
  let erp: SakilaUserApi;
  let connectorId: string;
  let otherConnectorId: string;
  let dir: string;
  const A = '/v1/tenants/site-spec-a';

  beforeAll(async () => {
    // Default gateway settings: its own fetch refuses loopback, so only the agent can reach the API.
    platform = await startPlatform();
    for (const id of ['site-spec-a', 'site-spec-b'])
      expect((await platform.api('POST', '/v1/tenants', { id, name: id })).status).toBe(201);
    erp = await startSakilaUserApi({
      database: { ...services.mariadb, ...(await sakilaReader()) },
      apiKey: 'erp-key-0123456789',
    });
    const connector = (await platform.api<{ id: string; apiKey: string }>('POST', `${A}/connectors`, { name: 'site' }))
      .body;
    connectorId = connector.id;
    otherConnectorId = (
      await platform.api<{ id: string }>('POST', '/v1/tenants/site-spec-b/connectors', { name: 'other' })
    ).body.id;
    dir = mkdtempSync(join(tmpdir(), 'vsc-site-spec-'));
    const policyFile = join(dir, 'policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify({ apis: { erp: { baseUrl: erp.url, paths: ['/openapi.json', '/api'] } } }),
    );
    const agent = platform.startAgent({ apiKey: connector.apiKey, policyFile });
    await agent.welcomed;
  }, 120_000);
  afterAll(async () => {
    await erp?.close();
    await platform?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("registers the site API's own document through the agent and lists its operations", async () => {
    const registered = await platform.api<{ version: number; created: boolean; operationCount: number }>(
      'POST',
      `${A}/apis/sakila-erp/versions`,
      { name: 'Sakila ERP', spec: { url: `${erp.url}/openapi.json`, connectorId } },
    );
    expect(registered).toMatchObject({ status: 200, body: { version: 1, created: true, operationCount: 2 } });
    const ops = await platform.api<{ operations: { key: string }[] }>(
      'GET',
      `${A}/apis/sakila-erp/versions/1/operations`,
    );
    expect(ops.body.operations.map((o) => o.key)).toEqual(['listActiveCustomers', 'getSalesSummary']);

    // The gateway itself may not fetch that address: without the connector it is refused.
    const direct = await platform.api('POST', `${A}/apis/sakila-direct/versions`, {
      spec: { url: `${erp.url}/openapi.json` },
    });
    expect(direct.status).toBe(400);
  });

  it('refreshes from the recorded source: the same document keeps the version, a changed one makes the next, flagged', async () => {
    const versions = await platform.api<{ version: number; source?: { url: string; connectorId?: string } }[]>(
      'GET',
      `${A}/apis/sakila-erp/versions`,
    );
    expect(versions.body[0]?.source).toEqual({ url: `${erp.url}/openapi.json`, connectorId });

    const same = await platform.api('POST', `${A}/apis/sakila-erp/refresh`);
    expect(same).toMatchObject({ status: 200, body: { version: 1, created: false } });

    erp.setVersion(2);
    try {
      const changed = await platform.api<{
        version: number;
        created: boolean;
        changesFromPrevious?: { breaking: boolean; affectedOperations: string[] };
      }>('POST', `${A}/apis/sakila-erp/refresh`);
      expect(changed).toMatchObject({ status: 200, body: { version: 2, created: true } });
      expect(changed.body.changesFromPrevious).toMatchObject({
        breaking: true,
        affectedOperations: ['getSalesSummary', 'listActiveCustomers'],
      });
      // The new version keeps the same source: the next refresh asks the same agent again.
      const again = await platform.api('POST', `${A}/apis/sakila-erp/refresh`);
      expect(again).toMatchObject({ status: 200, body: { version: 2, created: false } });
    } finally {
      erp.setVersion(1);
    }

    // A version uploaded as text has nothing to fetch again; an unknown API is a 404.
    const text = await (await fetch(`${erp.url}/openapi.json`)).text();
    expect((await platform.api('POST', `${A}/apis/uploaded/versions`, { spec: { text } })).status).toBe(200);
    const uploaded = await platform.api<{ error: { message: string } }>('POST', `${A}/apis/uploaded/refresh`);
    expect(uploaded.status).toBe(409);
    expect(uploaded.body.error.message).toMatch(/uploaded as text/);
    expect((await platform.api('POST', `${A}/apis/nothing-here/refresh`)).status).toBe(404);
  });

  it('runs the fetch as a workflow on the connector queue (VSC_RECORD_HISTORIES=1 records it for the replay test)', async () => {
    const workflowId = `api-spec-fetch-${randomBytes(4).toString('hex')}`;
    const fetched = await platform.temporal.workflow.execute(apiSpecFetchWorkflow, {
      taskQueue: platform.workflowTaskQueue,
      workflowId,
      args: [{ tenantId: 'site-spec-a', connectorId, url: `${erp.url}/openapi.json` }],
    });
    expect(fetched).toMatchObject({ allowedBy: 'erp', sourceUrl: `${erp.url}/openapi.json` });
    expect(JSON.parse(fetched.text)).toMatchObject({ openapi: expect.stringMatching(/^3\./) });
    if (process.env.VSC_RECORD_HISTORIES === '1') await saveHistory(platform, 'api-spec-fetch', workflowId);
  });

  it('refuses what the site does not allow, and another tenant’s connector', async () => {
    const outside = await platform.api<{ error: { message: string } }>('POST', `${A}/apis/outside/versions`, {
      spec: { url: `${erp.url}/private/openapi.json`, connectorId },
    });
    expect(outside.status).toBe(422);
    expect(outside.body.error.message).toMatch(/neither under an API of the site policy/);

    const foreign = await platform.api('POST', `${A}/apis/foreign/versions`, {
      spec: { url: `${erp.url}/openapi.json`, connectorId: otherConnectorId },
    });
    expect(foreign.status).toBe(404);
  });
});
