import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_INLINE_SITE_SPEC_BYTES } from '@vansales/protocol';
import { apiSpecFetchWorkflow } from '@vansales/workflows';
import { sakilaReader, services, startPlatform, type Platform } from './support/harness';
import { saveHistory } from './support/history-recorder';
import { startSakilaUserApi, type SakilaUserApi } from './support/sakila-user-api';

/**
 * A specification on a site's network is fetched by that site's agent (issue 11 items 1 and 6): the
 * seed's Mode 2 API listens where only the agent reaches it (the gateway's own fetch refuses private
 * addresses here), its /openapi.json is registered through REST via the agent, operations listed;
 * the agent fetches only what its site allows. A specification of several MB travels through the
 * buffer by reference (not in the answer frame), and one over the site's cap is refused naming it.
 */

/** The cap the agent of these tests is given (`specFetch.maxBytes` of its config). */
const SPEC_CAP = 6 * 1024 * 1024;

/**
 * A valid OpenAPI 3.0 document of `operations` operations, each returning a record schema of
 * `fields` described fields: about 110 KB per operation at 250 fields (40 operations: 4.4 MB).
 */
function bigSpec(operations: number, fields: number): string {
  const described = (i: number) => `Field ${i} of the record, as the ERP keeps it. `.repeat(8);
  const schemas: Record<string, unknown> = {};
  const paths: Record<string, unknown> = {};
  for (let o = 0; o < operations; o++) {
    const properties: Record<string, unknown> = {};
    for (let f = 0; f < fields; f++)
      properties[`field_${f}`] = { type: f % 3 ? 'string' : 'integer', description: described(f) };
    schemas[`Record${o}`] = { type: 'object', properties };
    paths[`/records${o}/{id}`] = {
      get: {
        operationId: `getRecord${o}`,
        description: described(o),
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': {
            description: 'ok',
            content: { 'application/json': { schema: { $ref: `#/components/schemas/Record${o}` } } },
          },
        },
      },
    };
  }
  const info = { title: 'Big site API', version: '1' };
  return JSON.stringify(
    { openapi: '3.0.3', info, servers: [{ url: '/api' }], paths, components: { schemas } },
    null,
    1,
  );
}
describe('specifications fetched by the site agent (REST, real agent)', () => {
  let platform: Platform;
  let erp: SakilaUserApi;
  let connectorId: string;
  let otherConnectorId: string;
  let dir: string;
  let specs: Server;
  let specsUrl: string;
  const big = bigSpec(40, 250);
  const tooBig = bigSpec(80, 250);
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
    // Another API of the site that serves large documents.
    specs = createServer((req, res) => {
      const body = req.url === '/specs/big.json' ? big : req.url === '/specs/too-big.json' ? tooBig : undefined;
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
      res.end(body ?? '{}');
    });
    await new Promise<void>((resolve) => specs.listen(0, '127.0.0.1', resolve));
    specsUrl = `http://127.0.0.1:${(specs.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'vsc-site-spec-'));
    const policyFile = join(dir, 'policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify({
        apis: {
          erp: { baseUrl: erp.url, paths: ['/openapi.json', '/api'] },
          specs: { baseUrl: specsUrl, paths: ['/specs'] },
        },
      }),
    );
    const agent = platform.startAgent({ apiKey: connector.apiKey, policyFile, specFetch: { maxBytes: SPEC_CAP } });
    await agent.welcomed;
  }, 120_000);
  afterAll(async () => {
    await erp?.close();
    specs?.closeAllConnections();
    await new Promise((resolve) => (specs ? specs.close(resolve) : resolve(undefined)));
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
    expect(JSON.parse(fetched.text!)).toMatchObject({ openapi: expect.stringMatching(/^3\./) });
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

  it('registers a specification of several MB through the buffer, not the answer frame, and deletes the object', async () => {
    expect(big.length).toBeGreaterThan(4 * 1024 * 1024);
    const registered = await platform.api<{ version: number; created: boolean; operationCount: number }>(
      'POST',
      `${A}/apis/big-site/versions`,
      { spec: { url: `${specsUrl}/specs/big.json`, connectorId } },
    );
    expect(registered).toMatchObject({ status: 200, body: { version: 1, created: true, operationCount: 40 } });
    const ops = await platform.api<{ operations: { key: string }[] }>(
      'GET',
      `${A}/apis/big-site/versions/1/operations`,
    );
    expect(ops.body.operations.map((o) => o.key)).toEqual(Array.from({ length: 40 }, (_, i) => `getRecord${i}`));
    // The text went by reference: no frame of the agent carried it, and the gateway removed the object once read.
    expect(platform.frames.filter((f) => f.includes('Big site API'))).toEqual([]);
    expect(Math.max(...platform.frames.map((f) => f.length))).toBeLessThan(MAX_INLINE_SITE_SPEC_BYTES + 64 * 1024);
    const tenantObjects = join(platform.bufferDir, 'buffer', 'site-spec-a');
    expect(existsSync(tenantObjects) ? readdirSync(tenantObjects) : []).toEqual([]);
  }, 120_000);

  it('refuses a specification over the site’s cap, naming the cap and the setting', async () => {
    expect(tooBig.length).toBeGreaterThan(SPEC_CAP);
    const refused = await platform.api<{ error: { message: string } }>('POST', `${A}/apis/too-big/versions`, {
      spec: { url: `${specsUrl}/specs/too-big.json`, connectorId },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toBe(
      `the specification at ${specsUrl}/specs/too-big.json is larger than 6 MiB (${SPEC_CAP} bytes), the cap set by specFetch.maxBytes of the agent's config: the site raises it there, or uploads the specification as text`,
    );
    expect((await platform.api('GET', `${A}/apis/too-big/versions`)).status).toBe(404);
  });
});
