import { Writable } from 'node:stream';
import pino from 'pino';
import {
  createApiCallRepository,
  createDefinitionRunRepository,
  createRepositories,
  openMetadataDb,
  type MetadataDb,
} from '@vansales/metadata';
import type { Logger } from '../src/logger';
import { recordSiteApiCalls } from '../src/agent-hub/record-site-api-calls';

// Embedded, in-memory PGlite: the real audit table and run records without a service.
let db: MetadataDb;
const lines: string[] = [];
const log = pino(
  { level: 'info' },
  new Writable({ write: (c: Buffer, _e, done) => (lines.push(...c.toString().split('\n').filter(Boolean)), done()) }),
) as unknown as Logger;

beforeAll(async () => {
  db = await openMetadataDb({ kind: 'pglite' });
  const repos = createRepositories(db);
  for (const id of ['acme', 'globex']) await repos.upsertTenant({ id, name: id });
  await repos.createConnector({ id: 'hq', tenantId: 'acme', name: 'hq' });
  const runs = createDefinitionRunRepository(db);
  for (const [tenantId, definitionId, workflowId] of [
    ['acme', 'orders-sync', 'def-acme-orders-sync-k1'],
    ['globex', 'their-def', 'def-globex-their-def-k1'],
  ] as const)
    await runs.insert({
      tenantId,
      definitionId,
      version: 1,
      workflowId,
      runKey: 'k1',
      triggerKind: 'manual',
      idempotencyKey: null,
      requestHash: null,
      startedBy: 'test',
    });
});
afterAll(async () => db?.destroy());

const calls = () => createApiCallRepository(db);
const record = (now = Date.now) =>
  recordSiteApiCalls({ calls: calls(), runs: createDefinitionRunRepository(db), log, now });
const task = {
  api: 'erp',
  path: '/customers',
  step: 'pull',
  operation: { apiId: 'erp', version: 2, key: 'listCustomers', manifestSha256: 'a'.repeat(64) },
};
const actor = (workflowId: string) => ({ workflowId, runId: 'r-uuid', activityId: '7', attempt: 1 });
const report = (over: Record<string, unknown> = {}) => ({
  apiId: 'erp',
  version: 2,
  operationKey: 'listCustomers',
  method: 'GET',
  attempt: 1,
  count: 2,
  failed: 1,
  requestBytes: 0,
  responseBytes: 900,
  durationMs: 30,
  calls: [
    { status: 200, requestBytes: 0, responseBytes: 900, durationMs: 20, at: Date.now() - 1000 },
    { status: 503, requestBytes: 0, responseBytes: 0, durationMs: 10, at: Date.now() - 500 },
  ],
  dropped: 0,
  ...over,
});
const rows = (tenantId: string) =>
  db.selectFrom('api_calls').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute();

describe("the call audit of a site step's API operation", () => {
  beforeEach(async () => {
    await db.deleteFrom('api_calls').execute();
    lines.length = 0;
  });

  it('writes one row per call: the session’s tenant and connector, the task’s operation and step, the run and its definition', async () => {
    await record()(
      { tenantId: 'acme', connectorId: 'hq' },
      'http.read',
      task,
      actor('def-acme-orders-sync-k1'),
      report(),
    );
    const written = await rows('acme');
    expect(written.map((r) => [r.status, Number(r.response_bytes), r.duration_ms])).toEqual([
      [200, 900, 20],
      [503, 0, 10],
    ]);
    expect(written[0]).toMatchObject({
      tenant_id: 'acme',
      connector_id: 'hq',
      side: 'site',
      api_id: 'erp',
      version: 2,
      operation_key: 'listCustomers',
      step_id: 'pull',
      run_id: 'def-acme-orders-sync-k1',
      definition_id: 'orders-sync',
    });
  });

  it('ignores a tenant, connector or operation the report claims: the session and the task decide', async () => {
    const forged = report({
      tenantId: 'globex',
      connectorId: 'globex-site',
      apiId: 'other-api',
      operationKey: 'deleteEverything',
      calls: [{ status: 200, requestBytes: 5, responseBytes: 6, durationMs: 1, at: Date.now(), tenantId: 'globex' }],
    });
    // Another tenant's run named by the workflow: its definition is not looked up across tenants.
    await record()(
      { tenantId: 'acme', connectorId: 'hq' },
      'http.write',
      task,
      actor('def-globex-their-def-k1'),
      forged,
    );
    expect(await rows('globex')).toEqual([]);
    const written = await rows('acme');
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({
      tenant_id: 'acme',
      connector_id: 'hq',
      api_id: 'erp',
      operation_key: 'listCustomers',
      definition_id: null,
      run_id: 'def-globex-their-def-k1',
    });
    expect(lines.join('\n')).toMatch(/names another operation than its task/);
  });

  it('drops a report that is not one, with the reason logged, and never throws', async () => {
    const identity = { tenantId: 'acme', connectorId: 'hq' };
    const bad = [
      report({ calls: [{ status: 'ok' }] }),
      report({ calls: Array.from({ length: 501 }, () => report().calls[0]) }),
      'not an object',
    ];
    for (const raw of bad) await record()(identity, 'http.read', task, actor('w'), raw);
    // A task without an API operation has nothing to audit.
    await record()(identity, 'http.read', { api: 'erp', path: '/x' }, actor('w'), report());
    expect(await rows('acme')).toEqual([]);
    expect(lines.filter((l) => /refused an agent's API call report/.test(l))).toHaveLength(3);
    expect(lines.join('\n')).toMatch(/calls no API operation/);
  });

  it("holds the site's clock to the gateway's: no call in the future or older than a week", async () => {
    const now = Date.UTC(2026, 0, 10);
    const r = report({
      calls: [
        { status: 200, requestBytes: 0, responseBytes: 1, durationMs: 1, at: now + 3600_000 },
        { status: 200, requestBytes: 0, responseBytes: 1, durationMs: 1, at: now - 30 * 86_400_000 },
        { status: 200, requestBytes: 0, responseBytes: 1, durationMs: 1, at: now - 60_000 },
      ],
    });
    await record(() => now)({ tenantId: 'acme', connectorId: 'hq' }, 'http.read', task, actor('w'), r);
    expect((await rows('acme')).map((x) => new Date(x.at).getTime()).sort()).toEqual([now - 60_000, now, now]);
  });
});
