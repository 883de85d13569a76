import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Workflow } from '@temporalio/common';
import type { WorkflowStartOptions } from '@temporalio/client';
import { decodeChunk } from '@vansales/dataflow';
import {
  httpReadStepWorkflow,
  httpWriteStepWorkflow,
  sitePolicyWorkflow,
  type HttpReadStepInput,
  type HttpWriteStepInput,
} from '@vansales/workflows';
import { failureText, startPlatform, type Platform } from './support/harness';
import { startStandin, type Standin } from './support/saas-standin';
import { saveHistory } from './support/history-recorder';

/**
 * HTTP source and destination steps end to end: the cloud reading and writing a stand-in SaaS
 * through the real cloud worker (egress guard, named credential, buffer), and a site's own API
 * called by a real agent through the gateway (the policy's API, the vault's credential), with the
 * refusals of anything outside the policy.
 */
jest.setTimeout(180_000);

const SAAS_TOKEN = `saas-${randomBytes(12).toString('hex')}`;
const SITE_KEY = `site-${randomBytes(12).toString('hex')}`;

let platform: Platform;
let saas: Standin;
let site: Standin;
let tenantId: string;
let connectorId: string;

const run = async <W extends Workflow>(name: string, workflow: W, input: Parameters<W>[0]) => {
  const workflowId = `${name}-${randomBytes(4).toString('hex')}`;
  const result = (await platform.temporal.workflow.execute(workflow, {
    taskQueue: platform.workflowTaskQueue,
    workflowId,
    args: [input],
  } as unknown as WorkflowStartOptions<W>)) as Awaited<ReturnType<W>>;
  // VSC_RECORD_HISTORIES=1 keeps these runs as the replay test's recorded histories.
  if (process.env.VSC_RECORD_HISTORIES === '1' && RECORDED.has(name)) await saveHistory(platform, name, workflowId);
  return result;
};

/** The dataset's records, read back from the buffer as any later step would. */
async function recordsOf(objectId: string): Promise<Record<string, unknown>[]> {
  const manifest = await platform.gateway.buffer.readManifest(tenantId, objectId);
  const columns = (manifest.schema as { columns: { name: string }[] }).columns.map((c) => c.name);
  const records: Record<string, unknown>[] = [];
  for (let i = 0; i < manifest.chunks.length; i++) {
    for (const row of await decodeChunk(await platform.gateway.buffer.readChunk(tenantId, objectId, i)))
      records.push(Object.fromEntries(columns.map((c, j) => [c, row[j]])));
  }
  return records;
}

const RECORDED = new Set(['http-read-step', 'http-write-step', 'http-read-site', 'http-write-site', 'site-policy']);

const checksum = (records: unknown[]) => createHash('sha256').update(JSON.stringify(records)).digest('hex');

beforeAll(async () => {
  platform = await startPlatform();
  saas = await startStandin({ auth: { kind: 'bearer', token: SAAS_TOKEN }, contacts: 1000 });
  site = await startStandin({
    basePath: '/erp/api',
    auth: { kind: 'header', name: 'x-api-key', value: SITE_KEY },
    contacts: 120,
  });
  tenantId = `http${randomBytes(3).toString('hex')}`;
  expect((await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'HTTP steps' })).status).toBe(201);
  const connector = (
    await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name: 'site' })
  ).body;
  connectorId = connector.id;
  const policyFile = join(mkdtempSync(join(tmpdir(), 'vsc-http-')), 'policy.json');
  writeFileSync(
    policyFile,
    JSON.stringify({
      writableTables: [{ database: 'dw', table: 'orders' }],
      apis: {
        erp: {
          baseUrl: site.baseUrl,
          credential: { kind: 'header', name: 'x-api-key', vault: 'api.erp.key' },
          methods: ['GET', 'POST'],
          paths: ['/contacts'],
        },
      },
    }),
  );
  const agent = platform.startAgent(
    { apiKey: connector.apiKey, policyFile },
    { secrets: (name) => (name === 'api.erp.key' ? SITE_KEY : undefined) },
  );
  await agent.welcomed;
  // Created through REST into the cloud credential store, which the cloud worker reads (not the file).
  const put = await platform.api('PUT', `/v1/tenants/${tenantId}/credentials/crm`, {
    credential: { kind: 'bearer', token: SAAS_TOKEN },
  });
  expect(put.status).toBe(200);
  expect(JSON.stringify(put.body)).not.toContain(SAAS_TOKEN);
});

afterAll(async () => {
  await platform?.close();
  await saas?.close();
  await site?.close();
});

const cloudApi = () => ({ kind: 'http' as const, baseUrl: saas.baseUrl, credential: 'crm' });
const readContacts = (overrides: Partial<HttpReadStepInput['request']> = {}): HttpReadStepInput => ({
  tenantId,
  cloudTaskQueue: platform.cloudTaskQueue,
  request: {
    endpoint: cloudApi(),
    method: 'GET',
    path: '/contacts',
    query: { limit: '100' },
    records: 'data',
    pagination: { kind: 'cursor', next: 'next_cursor', param: 'cursor' },
    maxPages: 1000,
    ...overrides,
  },
});

test('the cloud pages the SaaS contacts into the buffer by cursor: every record, the same values', async () => {
  const ref = await run('http-read-step', httpReadStepWorkflow, readContacts());
  expect(ref).toMatchObject({ rows: 1000, writtenBy: 'cloud' });
  expect(ref.columns).toEqual(['id', 'name', 'email', 'score', 'active', 'tags']);
  const records = await recordsOf(ref.objectId);
  expect(records).toHaveLength(1000);
  expect(checksum(records)).toBe(checksum(saas.contacts));
  const pages = saas.log.filter((r) => r.method === 'GET' && r.path.startsWith('/contacts'));
  expect(pages).toHaveLength(10);
  // The named credential was attached by the cloud worker to every request.
  expect(pages.every((r) => r.authorized)).toBe(true);
});

test('the Link header pages the same records; maxPages stops a read and says so in the row count', async () => {
  const linked = await run(
    'http-read-link',
    httpReadStepWorkflow,
    readContacts({ pagination: { kind: 'link-header' } }),
  );
  expect(checksum(await recordsOf(linked.objectId))).toBe(checksum(saas.contacts));
  const capped = await run('http-read-capped', httpReadStepWorkflow, readContacts({ maxPages: 3 }));
  expect(capped.rows).toBe(300);
});

test('the cloud posts a dataset through 429 and 5xx answers: each record applied once, Retry-After waited', async () => {
  const ref = await run('http-read-some', httpReadStepWorkflow, readContacts({ query: { limit: '40' }, maxPages: 1 }));
  expect(ref.rows).toBe(40);
  const before = saas.log.length;
  saas.inject({ method: 'POST', path: '/contacts', status: 429, retryAfter: '1' });
  saas.inject({ method: 'POST', path: '/contacts', status: 503, times: 2 });
  // Applied, then the answer is lost: only the idempotency key keeps the retry from a duplicate.
  saas.inject({ method: 'POST', path: '/contacts', status: 502, afterApply: true });
  const written = await run('http-write-step', httpWriteStepWorkflow, {
    tenantId,
    cloudTaskQueue: platform.cloudTaskQueue,
    request: { endpoint: cloudApi(), method: 'POST', path: '/contacts', batchSize: 1, idempotencyKey: 'id' },
    input: ref,
  } satisfies HttpWriteStepInput);
  expect(written).toEqual({ requests: 40, records: 40, retried: 4 });
  const ids = saas.created.map((c) => c.id);
  expect(ids).toHaveLength(40);
  expect(new Set(ids).size).toBe(40);
  const posts = saas.log.slice(before).filter((r) => r.method === 'POST');
  expect(posts.map((r) => r.status).filter((s) => s !== 201)).toEqual([429, 503, 503, 502]);
  // The 429 said "1 second": the same record's next request came no sooner (the server's own clock).
  const limited = posts.findIndex((r) => r.status === 429);
  expect(posts[limited + 1]!.idempotencyKey).toBe(posts[limited]!.idempotencyKey);
  expect(posts[limited + 1]!.at - posts[limited]!.at).toBeGreaterThanOrEqual(1000);
  // The record whose answer was lost was sent again with its key and replayed, not applied twice.
  const lost = posts.find((r) => r.status === 502)!;
  expect(posts.filter((r) => r.idempotencyKey === lost.idempotencyKey).map((r) => r.status)).toEqual([
    429, 503, 503, 502, 201,
  ]);
  expect(saas.created.filter((c) => String(c.id) === lost.idempotencyKey)).toHaveLength(1);
});

test("a site's own API is read and written by its agent, with the vault's key; nothing else leaves the site", async () => {
  const endpoint = { kind: 'site-api' as const, connectorId, api: 'erp' };
  const ref = await run('http-read-site', httpReadStepWorkflow, {
    tenantId,
    request: {
      endpoint,
      method: 'GET',
      path: '/contacts',
      query: { limit: '50' },
      records: 'data',
      pagination: { kind: 'link-header' },
      maxPages: 100,
    },
  });
  expect(ref).toMatchObject({ rows: 120, writtenBy: { connectorId } });
  expect(checksum(await recordsOf(ref.objectId))).toBe(checksum(site.contacts));
  const written = await run('http-write-site', httpWriteStepWorkflow, {
    tenantId,
    request: { endpoint, method: 'POST', path: '/contacts', batchSize: 25, idempotencyKey: 'id' },
    input: ref,
  });
  expect(written).toEqual({ requests: 5, records: 120, retried: 0 });
  expect(site.created).toHaveLength(120);
  expect(site.log.every((r) => r.authorized)).toBe(true);
  // The key stayed on the site: not in a frame, not in a log line, not in workflow history.
  expect(platform.frames.some((f) => f.includes(SITE_KEY))).toBe(false);
  expect(platform.logs.lines.some((l) => l.includes(SITE_KEY) || l.includes(SAAS_TOKEN))).toBe(false);
  // Nor the API's address: frames carry its name and the path asked for, progress carries paths.
  expect(platform.frames.some((f) => f.includes(site.url.replace('http://', '')))).toBe(false);
});

test('the cloud cannot make the agent call outside the policy: traversal, absolute URLs, other paths, methods, APIs', async () => {
  const before = site.log.length;
  const attempt = (request: Partial<HttpReadStepInput['request']>) =>
    run('http-read-refused', httpReadStepWorkflow, {
      tenantId,
      request: {
        endpoint: { kind: 'site-api', connectorId, api: 'erp' },
        method: 'GET',
        path: '/contacts',
        maxPages: 1,
        ...request,
      },
    }).then(
      () => 'ran',
      (err: unknown) => failureText(err),
    );
  for (const path of [
    '/contacts/../../openapi.json',
    '/contacts/%2e%2e/%2e%2e/openapi.json',
    `${site.url}/erp/api/contacts`,
    '//127.0.0.1:1/contacts',
    'http://169.254.169.254/latest/meta-data',
    '/contacts\\..\\..\\openapi.json',
  ])
    expect(await attempt({ path })).toMatch(/EgressRefused/);
  expect(await attempt({ path: '/openapi.json' })).toMatch(/EgressRefused.*outside the allowed paths/);
  expect(await attempt({ method: 'POST', endpoint: { kind: 'site-api', connectorId, api: 'other' } })).toMatch(
    /PolicyRefused.*no API named other/,
  );
  expect(site.log.length).toBe(before);
});

test('describeSitePolicy answers writable tables and API names, without URLs or credentials', async () => {
  const described = await platform.gateway.services.sitePolicies.describeSitePolicy(tenantId, connectorId);
  expect(described).toEqual({
    writableTables: [{ database: 'dw', table: 'orders' }],
    apis: [{ name: 'erp', methods: ['GET', 'POST'], paths: ['/contacts'] }],
  });
  const text = JSON.stringify(described);
  expect(text).not.toContain(site.url.replace('http://', ''));
  expect(text).not.toContain('api.erp.key');
  const sites = platform.gateway.services.sitePolicies;
  await expect(sites.destinationWritable(tenantId, connectorId, 'dw', { name: 'orders' })).resolves.toBe(true);
  await expect(sites.destinationWritable(tenantId, connectorId, 'dw', { name: 'customers' })).resolves.toBe(false);
  await expect(sites.describeSitePolicy('nobody', connectorId)).rejects.toThrow(/not found/);
  await expect(run('site-policy', sitePolicyWorkflow, { tenantId, connectorId })).resolves.toEqual(described);
});
