import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createConnection } from 'mysql2/promise';
import { throwawayPostgresDatabase } from '@vansales/test-kit';
import { issueBufferToken } from '@vansales/buffer';
import { decodeChunk } from '@vansales/dataflow';
import { AgentErrorType, BufferManifest, bufferPaths, connectorTaskQueue } from '@vansales/protocol';
import { OperationError } from '@vansales/connector-agent';
import { DefinitionDocument, type DefinitionDocumentInput } from '@vansales/definitions';
import { pgConfig, sakilaDatabase, sakilaReader, services, startPlatform, type Platform } from './support/harness';
import { startDefinitionDirect } from './support/definition-direct';
import { activityAttempts, publishAndRun } from './support/definition-rest';
import { saveHistory } from './support/history-recorder';

/**
 * Issue 10 items 3 and 5: rows the site's policy protects are transformed on the site. A definition
 * reads a site table with a masked column, aggregates it and loads the result into the cloud
 * warehouse: the transform runs as the agent's data.transform on the site's connector queue (never
 * the cloud's transformDataset), the warehouse holds what SQL on the source says, and no unmasked
 * value of the protected column is in any frame nor in the buffer objects the run wrote.
 */
jest.setTimeout(240_000);

let platform: Platform;
let tenantId: string;
let siteId: string;
let dw: { name: string; url: string; drop: () => Promise<void> };
/** Every answer the agent's data.transform gave, lost or not. */
const transformAnswers: unknown[] = [];
/** Set by a test: the next data.transform does its work, then its answer is lost (as a dropped socket loses it). */
let loseNextTransformAnswer = false;

beforeAll(async () => {
  platform = await startPlatform();
  tenantId = `stx${randomBytes(3).toString('hex')}`;
  expect((await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Site transform' })).status).toBe(201);
  dw = await throwawayPostgresDatabase('vsc_stxdw');
  platform.setCloudDatabases({ [tenantId]: { dw: pgConfig(dw.url, dw.name) } });
  const c = (
    await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name: 'site' })
  ).body;
  siteId = c.id;
  const policyFile = join(mkdtempSync(join(tmpdir(), 'vsc-stx-')), 'policy.json');
  writeFileSync(
    policyFile,
    JSON.stringify({ columns: [{ database: 'sakila', table: 'address', column: 'phone', action: 'mask' }] }),
  );
  const agent = platform.startAgent(
    {
      apiKey: c.apiKey,
      databases: { sakila: sakilaDatabase(await sakilaReader()) },
      policyFile,
    },
    {
      operations: (table) => ({
        ...table,
        'data.transform': async (raw, ctx) => {
          const answer = await table['data.transform']!(raw, ctx);
          transformAnswers.push(answer);
          if (loseNextTransformAnswer) {
            loseNextTransformAnswer = false;
            throw new OperationError(
              AgentErrorType.agentDisconnected,
              'the answer was lost on the way back (test)',
              true,
            );
          }
          return answer;
        },
      }),
    },
  );
  await agent.welcomed;
}, 180_000);

afterAll(async () => {
  await platform?.close();
  await dw?.drop();
});

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  const conn = await createConnection({ ...services.mariadb, database: 'sakila' });
  try {
    return (await conn.query(sql))[0] as Record<string, unknown>[];
  } finally {
    await conn.end();
  }
}

async function warehouseRows(sql: string): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: dw.url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

/** A buffer object's rows, read through the gateway's buffer routes with a read grant of the test's own. */
async function objectRows(objectId: string): Promise<unknown[][]> {
  const base = platform.gatewayWsUrl.replace(/^ws/, 'http').replace(/\/v1\/agent\/connect$/, '');
  const token = issueBufferToken(platform.bufferTokenSecret, {
    tenantId,
    connectorId: siteId,
    objectId,
    scope: 'read',
    ttlSeconds: 60,
  });
  const headers = { authorization: `Bearer ${token}` };
  const res = await fetch(`${base}${bufferPaths.manifest(objectId)}`, { headers });
  expect(res.status).toBe(200);
  const manifest = BufferManifest.parse(await res.json());
  const out: unknown[][] = [];
  for (const chunk of manifest.chunks) {
    const c = await fetch(`${base}${bufferPaths.chunk(objectId, chunk.index)}`, { headers });
    expect(c.status).toBe(200);
    out.push(...(await decodeChunk(Buffer.from(await c.arrayBuffer()))));
  }
  return out;
}

test("a transform of rows the site's policy protects runs on the site, and its result reaches the warehouse", async () => {
  const framesBefore = platform.frames.length;
  const view = await publishAndRun(platform, tenantId, 'site-transform-protected', {
    name: 'addresses per district into the warehouse',
    steps: [
      // Every column of address, phone (masked by the site's policy) among them.
      {
        id: 'addresses',
        kind: 'source',
        db: { endpoint: { kind: 'site-db', connectorId: siteId, database: 'sakila' }, table: { name: 'address' } },
      },
      {
        id: 'per-district',
        kind: 'transform',
        transform: {
          op: 'aggregate',
          groupBy: ['district'],
          measures: { addresses: { fn: 'count' }, phone: { fn: 'max', field: 'phone' } },
        },
      },
      {
        id: 'warehouse',
        kind: 'destination',
        db: {
          endpoint: { kind: 'cloud-db', database: 'dw' },
          table: { name: 'district_addresses' },
          keyColumns: ['district'],
          createIfMissing: true,
        },
      },
    ],
    edges: [
      { from: 'addresses', to: 'per-district' },
      { from: 'per-district', to: 'warehouse' },
    ],
  });
  expect({ status: view.status, state: view.run?.state }).toEqual({ status: 'completed', state: 'completed' });
  const run = view.run!;

  // The route says the transform stays on the site, and it ran there.
  expect(run.steps.addresses!.route).toContain('the transform runs on the site: its policy protects rows read');
  expect(run.steps['per-district']).toMatchObject({ placement: { kind: 'site', connectorId: siteId } });
  expect(run.steps['per-district']!.route).toContain("the site's policy protects rows of its input");
  expect(run.steps.warehouse!.placement).toEqual({ kind: 'cloud' });

  // The history: the agent's dataTransform on the site's connector queue, no transformDataset anywhere.
  const history = await platform.temporal.workflow.getHandle(view.runId).fetchHistory();
  const scheduled = (history.events ?? []).flatMap((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    return a ? [{ type: a.activityType?.name, queue: a.taskQueue?.name }] : [];
  });
  expect(scheduled.map((s) => s.type)).toEqual(['sitePolicyDescribe', 'dataExtract', 'dataTransform', 'cloudLoad']);
  expect(scheduled.find((s) => s.type === 'dataTransform')!.queue).toBe(connectorTaskQueue(siteId));

  // The warehouse holds what SQL on the source says; the transform saw the phones masked only.
  const expected = await rows('SELECT district, COUNT(*) AS addresses FROM address GROUP BY district');
  const got = await warehouseRows('SELECT district, addresses, phone FROM district_addresses');
  const byDistrict = (list: Record<string, unknown>[]) =>
    list.map((r) => `${String(r.district)}=${Number(r.addresses)}`).sort();
  expect(byDistrict(got)).toEqual(byDistrict(expected));
  expect(got.length).toBeGreaterThan(300);
  for (const r of got) expect([null, '****']).toContain(r.phone);

  // No unmasked phone in any frame of this run nor in the objects it wrote (the extract's and the transform's).
  const phones = (await rows('SELECT DISTINCT phone FROM address'))
    .map((r) => String(r.phone))
    .filter((p) => p.length >= 6);
  expect(phones.length).toBeGreaterThan(500);
  const frames = platform.frames.slice(framesBefore).join('\n');
  const extracted = run.steps.addresses!.output!.dataset!.objectId;
  const transformed = run.steps['per-district']!.output!.dataset!.objectId;
  const objects = JSON.stringify([await objectRows(extracted), await objectRows(transformed)]);
  expect(objects).toContain('****');
  for (const phone of phones) {
    expect(frames).not.toContain(phone);
    expect(objects).not.toContain(phone);
  }
  if (process.env.VSC_RECORD_HISTORIES === '1') await saveHistory(platform, 'definition-site-transform', view.runId);
});

test("placement 'site' runs the transform on the agent too, and a bad transform fails there with the cloud's failure type", async () => {
  const doc = (where: string) => ({
    name: 'big payments into the warehouse',
    steps: [
      {
        id: 'payments',
        kind: 'source' as const,
        db: {
          endpoint: { kind: 'site-db' as const, connectorId: siteId, database: 'sakila' },
          table: { name: 'payment' },
          columns: ['payment_id', 'customer_id', 'amount'],
        },
      },
      {
        id: 'big',
        kind: 'transform' as const,
        placement: 'site' as const,
        transform: { op: 'filter' as const, where },
      },
      {
        id: 'warehouse',
        kind: 'destination' as const,
        db: {
          endpoint: { kind: 'cloud-db' as const, database: 'dw' },
          table: { name: 'big_payments' },
          keyColumns: ['payment_id'],
          createIfMissing: true,
        },
      },
    ],
    edges: [
      { from: 'payments', to: 'big' },
      { from: 'big', to: 'warehouse' },
    ],
  });
  const view = await publishAndRun(platform, tenantId, 'site-transform-placed', doc('$number(amount) >= 9'));
  expect({ status: view.status, state: view.run?.state }).toEqual({ status: 'completed', state: 'completed' });
  expect(view.run!.steps.big).toMatchObject({ placement: { kind: 'site', connectorId: siteId } });
  expect(view.run!.steps.big!.route).toContain('transform placed on the site');
  const [{ n }] = (await rows('SELECT COUNT(*) AS n FROM payment WHERE amount >= 9')) as [{ n: unknown }];
  expect(Number(n)).toBeGreaterThan(0);
  expect(Number((await warehouseRows('SELECT COUNT(*) AS n FROM big_payments'))[0]!.n)).toBe(Number(n));

  const bad = await publishAndRun(platform, tenantId, 'site-transform-placed', doc('$number(amount) >= ('));
  expect(bad.status).toBe('failed');
  expect(bad.run!.steps.big).toMatchObject({ state: 'failed', placement: { kind: 'site', connectorId: siteId } });
  expect(bad.run!.steps.big!.error).toContain('TransformInvalid');
});

/** The payments with an amount of 9 or more, filtered on the site and loaded into `into` in the warehouse. */
const bigPayments = (into: string): Omit<DefinitionDocumentInput, 'format'> => ({
  name: 'big payments into the warehouse',
  steps: [
    {
      id: 'payments',
      kind: 'source',
      db: {
        endpoint: { kind: 'site-db', connectorId: siteId, database: 'sakila' },
        table: { name: 'payment' },
        columns: ['payment_id', 'customer_id', 'amount'],
      },
    },
    { id: 'big', kind: 'transform', placement: 'site', transform: { op: 'filter', where: '$number(amount) >= 9' } },
    {
      id: 'warehouse',
      kind: 'destination',
      db: {
        endpoint: { kind: 'cloud-db', database: 'dw' },
        table: { name: into },
        keyColumns: ['payment_id'],
        createIfMissing: true,
      },
    },
  ],
  edges: [
    { from: 'payments', to: 'big' },
    { from: 'big', to: 'warehouse' },
  ],
});

test('a site transform whose answer was lost after its commit is retried: the retry returns the committed object', async () => {
  const before = transformAnswers.length;
  loseNextTransformAnswer = true;
  const view = await publishAndRun(platform, tenantId, 'site-transform-lost-answer', bigPayments('big_payments_retry'));
  expect({ status: view.status, state: view.run?.state, error: view.run?.steps.big?.error }).toEqual({
    status: 'completed',
    state: 'completed',
    error: undefined,
  });
  // Two attempts on the agent: the first committed and lost its answer, the second read the object back.
  const answers = transformAnswers.slice(before) as { objectId: string; rows: number; columns: string[] }[];
  expect(answers).toHaveLength(2);
  expect(answers[1]).toEqual(answers[0]);
  const out = view.run!.steps.big!.output!.dataset!;
  expect(out).toMatchObject({ objectId: answers[0]!.objectId, rows: answers[0]!.rows });
  const [{ n }] = (await rows('SELECT COUNT(*) AS n FROM payment WHERE amount >= 9')) as [{ n: unknown }];
  expect(out.rows).toBe(Number(n));
  // The committed object holds the rows its answer says (written once: the buffer refuses a second write).
  expect(await objectRows(out.objectId)).toHaveLength(Number(n));
  expect(Number((await warehouseRows('SELECT COUNT(*) AS n FROM big_payments_retry'))[0]!.n)).toBe(Number(n));
  expect(await activityAttempts(platform, view.runId)).toContainEqual({ type: 'dataTransform', attempt: 2 });
});

test('a transform of protected rows after a continue-as-new still runs on the site (the site-only objects are carried)', async () => {
  const document = DefinitionDocument.parse({
    format: 'vansales.definition/v1',
    name: 'addresses per district after a long loop',
    steps: [
      {
        id: 'addresses',
        kind: 'source',
        db: { endpoint: { kind: 'site-db', connectorId: siteId, database: 'sakila' }, table: { name: 'address' } },
      },
      // A loop long enough to continue as new: the transform after it runs in a later execution.
      {
        id: 'each',
        kind: 'for-each',
        over: 'batches',
        batchSize: 100,
        concurrency: 1,
        body: { steps: [{ id: 'nap', kind: 'wait', duration: '10ms' }], edges: [] },
      },
      {
        id: 'per-district',
        kind: 'transform',
        transform: { op: 'aggregate', groupBy: ['district'], measures: { addresses: { fn: 'count' } } },
      },
      {
        id: 'warehouse',
        kind: 'destination',
        db: {
          endpoint: { kind: 'cloud-db', database: 'dw' },
          table: { name: 'district_addresses_long' },
          keyColumns: ['district'],
          createIfMissing: true,
        },
      },
    ],
    edges: [
      { from: 'addresses', to: 'each' },
      { from: 'each', to: 'per-district' },
      { from: 'per-district', to: 'warehouse' },
    ],
  } satisfies DefinitionDocumentInput);
  const handle = await startDefinitionDirect(platform, tenantId, 'site-transform-long', document, {
    historyEventsLimit: 30,
  });
  const firstRunId = handle.firstExecutionRunId;
  const result = await handle.result();
  expect(result.state).toBe('completed');
  const first = await platform.temporal.workflow.getHandle(handle.workflowId, firstRunId).fetchHistory();
  expect(first.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
  // The transform ran in a later execution, on the site's queue; no execution scheduled the cloud's transform.
  expect(result.steps['per-district']).toMatchObject({ placement: { kind: 'site', connectorId: siteId } });
  const scheduled: { type?: string | null; queue?: string | null }[] = [];
  for await (const run of platform.temporal.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) {
    const history = await platform.temporal.workflow.getHandle(handle.workflowId, run.runId).fetchHistory();
    for (const e of history.events ?? []) {
      const a = e.activityTaskScheduledEventAttributes;
      if (a) scheduled.push({ type: a.activityType?.name, queue: a.taskQueue?.name });
    }
  }
  expect(scheduled.map((s) => s.type)).not.toContain('transformDataset');
  expect(scheduled.find((s) => s.type === 'dataTransform')?.queue).toBe(connectorTaskQueue(siteId));
  const expected = await rows('SELECT district, COUNT(*) AS addresses FROM address GROUP BY district');
  const got = await warehouseRows('SELECT district, addresses FROM district_addresses_long');
  expect(got.length).toBe(expected.length);
  if (process.env.VSC_RECORD_HISTORIES === '1')
    await saveHistory(platform, 'definition-site-transform-carried', handle.workflowId, firstRunId);
});
