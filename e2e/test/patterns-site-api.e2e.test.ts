import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { createConnection } from 'mysql2/promise';
import { openDataConnection, type DataConnection } from '@vansales/dataflow';
import { DefinitionDocument, type DefinitionDocumentInput, type DefinitionRunStatus } from '@vansales/definitions';
import {
  pgConfig,
  sakilaDatabase,
  sakilaReader,
  services,
  startPlatform,
  until,
  type Platform,
} from './support/harness';
import { startStandin, type Standin } from './support/saas-standin';
import { saveHistory } from './support/history-recorder';
import { scheduledActivities, startDefinitionDirect } from './support/definition-direct';
import type { definitionWorkflow } from '@vansales/workflows';
import { throwawayPostgresDatabase } from '@vansales/test-kit';

/**
 * Issue 10's patterns with a user's own API on the site network (a `site-api` endpoint): the agent
 * calls it with the vault's credential and the policy's base URL; the cloud never sees either.
 * Real gateway, agent, cloud worker, Temporal, MariaDB (the site's ERP database), PostgreSQL (a site
 * database and the cloud warehouse); local HTTP servers stand in for the site API and the SaaS.
 * VSC_RECORD_HISTORIES=1 keeps each pattern's run as a recorded history for the replay test.
 */
jest.setTimeout(240_000);

const record = process.env.VSC_RECORD_HISTORIES === '1';
const SITE_KEY = `site-${randomBytes(12).toString('hex')}`;
const SAAS_TOKEN = `saas-${randomBytes(12).toString('hex')}`;

let platform: Platform;
let tenantId: string;
let connectorId: string;
let site: Standin;
let saas: Standin;
let warehouseDb: { name: string; url: string; drop: () => Promise<void> };
let siteDb: { name: string; url: string; drop: () => Promise<void> };
let warehouse: DataConnection;

const doc = (d: Omit<DefinitionDocumentInput, 'format'>) =>
  DefinitionDocument.parse({ format: 'vansales.definition/v1', ...d });

const start = (definitionId: string, document: DefinitionDocument) =>
  startDefinitionDirect(platform, tenantId, definitionId, document);

const activities = (handle: WorkflowHandle) => scheduledActivities(platform, handle);

const save = async (name: string, workflowId: string) => {
  if (record) await saveHistory(platform, name, workflowId);
};

const checksum = (records: unknown[]) => createHash('sha256').update(JSON.stringify(records)).digest('hex');

/** Every file under the gateway's buffer folder (objects, chunks, manifests), for "nothing was written". */
function bufferFiles(dir = platform.bufferDir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? bufferFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}

const sqlOf = (url: string) => async (text: string) => {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
};

beforeAll(async () => {
  platform = await startPlatform();
  site = await startStandin({
    basePath: '/erp/api',
    auth: { kind: 'header', name: 'x-api-key', value: SITE_KEY },
    contacts: 120,
  });
  // The SaaS has 50 contacts, so its 250 orders fall 5 to each of contacts 1..50.
  saas = await startStandin({ auth: { kind: 'bearer', token: SAAS_TOKEN }, contacts: 50, orders: 250 });
  tenantId = `psa${randomBytes(3).toString('hex')}`;
  expect((await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Site API patterns' })).status).toBe(201);
  warehouseDb = await throwawayPostgresDatabase('vsc_psa_dw');
  siteDb = await throwawayPostgresDatabase('vsc_psa_site');
  platform.setCloudDatabases({
    [tenantId]: {
      dw: pgConfig(warehouseDb.url, warehouseDb.name),
      sakila: { dialect: 'mysql', ...services.mariadb, database: 'sakila' },
    },
  });
  platform.setCloudCredentials({ [tenantId]: { crm: { kind: 'bearer', token: SAAS_TOKEN } } });
  warehouse = await openDataConnection(pgConfig(warehouseDb.url, warehouseDb.name));
  const connector = (
    await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name: 'site' })
  ).body;
  connectorId = connector.id;
  const policyFile = join(mkdtempSync(join(tmpdir(), 'vsc-psa-')), 'policy.json');
  writeFileSync(
    policyFile,
    JSON.stringify({
      writableTables: [{ database: 'local', table: '*' }],
      columns: [
        { database: 'sakila', table: 'staff', column: 'password', action: 'drop' },
        { database: 'sakila', table: 'staff', column: 'email', action: 'mask' },
      ],
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
    {
      apiKey: connector.apiKey,
      policyFile,
      databases: { sakila: sakilaDatabase(await sakilaReader()), local: pgConfig(siteDb.url, siteDb.name) },
    },
    { secrets: (name) => (name === 'api.erp.key' ? SITE_KEY : undefined) },
  );
  await agent.welcomed;
}, 120_000);

afterAll(async () => {
  await warehouse?.close();
  await platform?.close();
  await site?.close();
  await saas?.close();
  await warehouseDb?.drop();
  await siteDb?.drop();
});

const siteApi = () => ({ kind: 'site-api' as const, connectorId, api: 'erp' });
/** A source step reading the site API's contacts page by page (Link header), through the agent. */
const readSiteContacts = () => ({
  id: 'contacts',
  kind: 'source' as const,
  http: {
    endpoint: siteApi(),
    path: '/contacts',
    query: { limit: '50' },
    records: 'data',
    pagination: { kind: 'link-header' as const },
  },
});

it('a site-api source and destination run through the agent (its http.read / http.write), not a cloud activity', async () => {
  const handle = await start(
    'site-api-steps',
    doc({
      name: 'site API both ways',
      steps: [
        readSiteContacts(),
        {
          id: 'keep',
          kind: 'destination',
          db: {
            endpoint: { kind: 'cloud-db', database: 'dw' },
            table: { name: 'site_contacts' },
            keyColumns: ['id'],
            createIfMissing: true,
          },
        },
        {
          id: 'categories',
          kind: 'source',
          db: { endpoint: { kind: 'cloud-db', database: 'sakila' }, table: { name: 'category' } },
        },
        {
          id: 'post',
          kind: 'destination',
          http: { endpoint: siteApi(), path: '/contacts', batchSize: 5, idempotencyKey: 'category_id' },
        },
      ],
      edges: [
        { from: 'contacts', to: 'keep' },
        { from: 'categories', to: 'post' },
      ],
    }),
  );
  const created = site.created.length;
  const result: DefinitionRunStatus = await Promise.race([
    handle.result(),
    // Before the fix the step waited for an activity nobody serves: say so instead of hanging.
    until<never>(
      'the site-api steps to fail or finish',
      async () => {
        const s = await handle.query<DefinitionRunStatus>('runStatus');
        const stuck = Object.values(s.steps).find((st) => (st.attempts ?? 0) > 0 && st.state === 'running');
        const history = await activities(handle);
        if (history.includes('httpRead') || history.includes('httpWrite'))
          throw new Error(`a site-api step was scheduled as a cloud activity: ${history.join(', ')} (${stuck?.state})`);
        return false as const;
      },
      200_000,
    ),
  ]);
  expect(result.state).toBe('completed');
  expect(result.steps.contacts).toMatchObject({ placement: { kind: 'site', connectorId } });
  expect(result.steps.contacts!.output!.dataset).toMatchObject({ rows: 120, writtenBy: { connectorId } });
  expect(result.steps.post!.output!.value).toEqual({ requests: 4, records: 16, retried: 0 });
  expect(await activities(handle)).toEqual(expect.arrayContaining(['siteHttpRead', 'siteHttpWrite']));
  expect(await warehouse.countRows({ name: 'site_contacts' })).toBe(120);
  const names = (await sqlOf(warehouseDb.url)('SELECT id, name, email FROM site_contacts ORDER BY id')).map((r) => ({
    ...r,
    id: Number(r.id),
  }));
  expect(checksum(names)).toBe(checksum(site.contacts.map(({ id, name, email }) => ({ id, name, email }))));
  expect(site.created.length - created).toBe(16);
  // The API key stayed on the site.
  expect(platform.frames.some((f) => f.includes(SITE_KEY))).toBe(false);
  await save('definition-site-api-steps', handle.workflowId);
});

it('3.1.2 site DB -> site API: one task on the site posts every row; no buffer object, no row over the socket', async () => {
  const conn = await createConnection({ ...services.mariadb, database: 'sakila', dateStrings: true });
  const [actors] = await conn.query('SELECT actor_id, first_name, last_name, last_update FROM actor ORDER BY actor_id');
  await conn.end();
  const expected = actors as Record<string, unknown>[];
  const filesBefore = bufferFiles();
  const framesBefore = platform.frames.length;
  const createdBefore = site.created.length;
  const handle = await start(
    'actors-to-site-api',
    doc({
      name: 'ERP actors to the site API',
      steps: [
        {
          id: 'actors',
          kind: 'source',
          db: { endpoint: { kind: 'site-db', connectorId, database: 'sakila' }, table: { name: 'actor' } },
        },
        {
          id: 'post',
          kind: 'destination',
          http: { endpoint: siteApi(), path: '/contacts', batchSize: 50, idempotencyKey: 'actor_id' },
        },
      ],
      edges: [{ from: 'actors', to: 'post' }],
    }),
  );
  const result = await handle.result();
  expect(result.state).toBe('completed');
  for (const id of ['actors', 'post'])
    expect(result.steps[id]).toMatchObject({ state: 'completed', placement: { kind: 'site-transfer', connectorId } });
  expect(result.steps.post!.route).toMatch(/^site DB to site API: the site only/);
  expect(result.steps.post!.output!.value).toMatchObject({ rowCount: 200, records: 200, requests: 4, transfer: true });
  // One agent task did it all: no extract into the buffer, no write from it.
  expect(await activities(handle)).toEqual(['siteTableToApi']);
  expect(bufferFiles()).toEqual(filesBefore);
  const posted = site.created.slice(createdBefore);
  const normalised = posted.map((r) => ({ ...r, last_update: String(r.last_update).replace('T', ' ').slice(0, 19) }));
  expect(normalised).toHaveLength(200);
  expect(checksum(normalised)).toBe(checksum(expected));
  // No row crossed the socket: no frame since the run started carries an actor's name.
  const frames = platform.frames.slice(framesBefore).join('\n');
  expect(frames).not.toContain(String(expected[0]!.last_name));
  expect(frames).not.toContain(String(expected[199]!.last_name));
  await save('definition-site-db-to-site-api', handle.workflowId);
});

it('3.1.2 site DB -> site API: the site policy applies on the way (dropped and masked columns never reach the API)', async () => {
  const createdBefore = site.created.length;
  const handle = await start(
    'staff-to-site-api',
    doc({
      name: 'ERP staff to the site API',
      steps: [
        {
          id: 'staff',
          kind: 'source',
          db: {
            endpoint: { kind: 'site-db', connectorId, database: 'sakila' },
            table: { name: 'staff' },
            columns: ['staff_id', 'first_name', 'email', 'password'],
          },
        },
        { id: 'post', kind: 'destination', http: { endpoint: siteApi(), path: '/contacts', batchSize: 10 } },
      ],
      edges: [{ from: 'staff', to: 'post' }],
    }),
  );
  const result = await handle.result();
  expect(result.state).toBe('completed');
  expect(await activities(handle)).toEqual(['siteTableToApi']);
  const posted = site.created.slice(createdBefore);
  expect(posted.length).toBeGreaterThan(0);
  for (const r of posted) {
    expect(Object.keys(r).sort()).toEqual(['email', 'first_name', 'staff_id']);
    expect(r.email).toBe('****');
  }
});

it('3.3.3 site API -> cloud join/aggregate -> internet API: the posted totals match an independent computation', async () => {
  // The SaaS's orders, read by the test itself (not through the platform) for the expected totals.
  const orders: { id: number; contactId: number; total: number }[] = [];
  for (let page = 1; ; page++) {
    const res = await fetch(`${saas.baseUrl}/orders?page=${page}`, {
      headers: { authorization: `Bearer ${SAAS_TOKEN}` },
    });
    const body = (await res.json()) as { orders: typeof orders };
    if (body.orders.length === 0) break;
    orders.push(...body.orders);
  }
  const activeOf = new Map(site.contacts.map((c) => [c.id, c.active]));
  const expected = new Map<boolean, { orders: number; revenue: number }>();
  for (const o of orders) {
    const active = activeOf.get(o.contactId);
    if (active === undefined) continue;
    const t = expected.get(active) ?? { orders: 0, revenue: 0 };
    t.orders++;
    t.revenue += o.total;
    expected.set(active, t);
  }
  expect(expected.size).toBe(2);

  const createdBefore = saas.created.length;
  const filesBefore = bufferFiles().length;
  const handle = await start(
    'site-contacts-revenue',
    doc({
      name: 'revenue by active site contacts',
      steps: [
        readSiteContacts(),
        {
          id: 'orders',
          kind: 'source',
          http: {
            endpoint: { kind: 'http', baseUrl: saas.baseUrl, credential: 'crm' },
            path: '/orders',
            records: 'orders',
            pagination: { kind: 'page', param: 'page' },
          },
        },
        { id: 'joined', kind: 'transform', transform: { op: 'join', leftKey: ['id'], rightKey: ['contactId'] } },
        {
          id: 'totals',
          kind: 'transform',
          transform: {
            op: 'aggregate',
            groupBy: ['active'],
            measures: { orders: { fn: 'count' }, revenue: { fn: 'sum', field: 'total' } },
          },
        },
        {
          id: 'post',
          kind: 'destination',
          http: {
            endpoint: { kind: 'http', baseUrl: saas.baseUrl, credential: 'crm' },
            path: '/contacts',
            batchSize: 10,
          },
        },
      ],
      edges: [
        { from: 'contacts', to: 'joined', port: 'left' },
        { from: 'orders', to: 'joined', port: 'right' },
        { from: 'joined', to: 'totals' },
        { from: 'totals', to: 'post' },
      ],
    }),
  );
  const result = await handle.result();
  expect(result.state).toBe('completed');
  expect(result.steps.contacts).toMatchObject({ placement: { kind: 'site', connectorId } });
  expect(result.steps.contacts!.route).toContain('site API to cloud API: site -> buffer -> cloud');
  for (const id of ['orders', 'joined', 'totals', 'post'])
    expect(result.steps[id]!.placement).toEqual({ kind: 'cloud' });
  expect(await activities(handle)).toEqual(
    expect.arrayContaining(['siteHttpRead', 'httpRead', 'transformDataset', 'httpWrite']),
  );
  // This route does go through the buffer (site -> buffer -> cloud): the listing 3.1.2 relies on sees it.
  expect(bufferFiles().length).toBeGreaterThan(filesBefore);
  const posted = saas.created.slice(createdBefore) as { active: boolean; orders: number; revenue: number }[];
  expect(posted).toHaveLength(2);
  for (const p of posted) {
    const want = expected.get(p.active)!;
    expect(Number(p.orders)).toBe(want.orders);
    expect(Number(p.revenue)).toBeCloseTo(want.revenue, 6);
  }
  await save('definition-site-api-aggregate', handle.workflowId);
});

/**
 * The site's own API as an ERP integration point: the ERP posts its order events here, and this
 * server forwards each one to the definition's webhook, signed with the Standard Webhooks scheme
 * (HMAC-SHA256 over id.timestamp.body, the ERP's event id as the delivery id). It answers the ERP
 * with the gateway's answer, so a retried ERP delivery is a redelivery to the gateway.
 */
async function startSiteWebhookRelay(target: () => { url: string; secret: string }) {
  const forwarded: { eventId: string; status: number; answer: Record<string, unknown> }[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      void (async () => {
        const event = JSON.parse(Buffer.concat(parts).toString('utf8')) as { id: string; order: unknown };
        const { url, secret } = target();
        const body = JSON.stringify(event.order);
        const timestamp = Math.floor(Date.now() / 1000);
        const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
        const signature = createHmac('sha256', key).update(`${event.id}.${timestamp}.${body}`).digest('base64');
        const answer = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'webhook-id': event.id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': `v1,${signature}`,
          },
          body,
        });
        const json = (await answer.json()) as Record<string, unknown>;
        forwarded.push({ eventId: event.id, status: answer.status, answer: json });
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      })().catch((err: unknown) => {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: String(err) }));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/erp/webhooks/orders`,
    forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

it('3.4.4 event-driven: the site API relays a signed ERP order webhook; the run distributes it to the site DB and the warehouse, once', async () => {
  const definitionId = 'erp-order-events';
  const base = `/v1/tenants/${tenantId}/definitions`;
  const document = {
    format: 'vansales.definition/v1',
    name: 'ERP order events',
    triggers: [{ kind: 'webhook', scheme: 'standard-webhooks' }],
    steps: [
      {
        id: 'lines',
        kind: 'transform',
        // The delivery's body is one record ({ body: <the order> }): one row per order line.
        transform: {
          op: 'script',
          source:
            'function transform(r) { const o = r.body; return o.lines.map((l, i) => ({ order_id: o.orderId, line_no: i + 1, customer: o.customer, sku: l.sku, qty: l.qty, price: l.price })); }',
        },
      },
      {
        id: 'to-site',
        kind: 'destination',
        db: {
          endpoint: { kind: 'site-db', connectorId, database: 'local' },
          table: { name: 'order_lines' },
          keyColumns: ['order_id', 'line_no'],
          createIfMissing: true,
        },
      },
      {
        id: 'to-warehouse',
        kind: 'destination',
        db: {
          endpoint: { kind: 'cloud-db', database: 'dw' },
          table: { name: 'order_lines' },
          keyColumns: ['order_id', 'line_no'],
          createIfMissing: true,
        },
      },
    ],
    edges: [
      { from: 'lines', to: 'to-site' },
      { from: 'lines', to: 'to-warehouse' },
    ],
  };
  const created = await platform.api<{ version: { version: number } }>('POST', base, { id: definitionId, document });
  expect(created.status).toBe(201);
  const published = await platform.api<{ webhook: { path: string; secret: string } }>(
    'POST',
    `${base}/${definitionId}/publish`,
    { version: created.body.version.version },
  );
  expect(published.status).toBe(200);
  const gatewayUrl = platform.gatewayWsUrl.replace(/^ws/, 'http').replace(/\/v1\/agent\/connect$/, '');
  const relay = await startSiteWebhookRelay(() => ({
    url: `${gatewayUrl}${published.body.webhook.path}`,
    secret: published.body.webhook.secret,
  }));
  try {
    const order = {
      orderId: 70_001,
      customer: 'Hardware Store Ltd',
      lines: [
        { sku: 'HX-100', qty: 3, price: 12.5 },
        { sku: 'HX-200', qty: 1, price: 99.9 },
        { sku: 'HX-300', qty: 12, price: 0.75 },
      ],
    };
    const erpPost = () =>
      fetch(relay.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'evt_70001', type: 'order.created', order }),
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { workflowId: string; duplicate: boolean },
      }));
    const first = await erpPost();
    expect(first.status).toBe(202);
    const handle = platform.temporal.workflow.getHandle<typeof definitionWorkflow>(first.body.workflowId);
    const result = await handle.result();
    expect(result.state).toBe('completed');
    expect(result.steps['to-site']).toMatchObject({ state: 'completed', placement: { kind: 'site', connectorId } });
    expect(result.steps['to-site']!.route).toContain('cloud -> buffer -> site');
    expect(result.steps['to-warehouse']).toMatchObject({ state: 'completed', placement: { kind: 'cloud' } });

    const want = order.lines.map((l, i) => ({
      order_id: order.orderId,
      line_no: i + 1,
      customer: order.customer,
      sku: l.sku,
      qty: l.qty,
      price: l.price,
    }));
    const rowsOf = async (url: string) =>
      (
        await sqlOf(url)(
          'SELECT order_id, line_no, customer, sku, qty, price FROM order_lines ORDER BY order_id, line_no',
        )
      ).map((r) => ({
        ...r,
        order_id: Number(r.order_id),
        line_no: Number(r.line_no),
        qty: Number(r.qty),
        price: Number(r.price),
      }));
    expect(await rowsOf(siteDb.url)).toEqual(want);
    expect(await rowsOf(warehouseDb.url)).toEqual(want);

    // The ERP delivers the same event again: the gateway finds the run it started, and starts none
    // (a second run under the same workflow id would be the one describe() answers).
    const firstRun = (await handle.describe()).runId;
    const again = await erpPost();
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ workflowId: first.body.workflowId, duplicate: true });
    expect((await handle.describe()).runId).toBe(firstRun);
    expect(relay.forwarded.map((f) => f.status)).toEqual([202, 200]);
    await save('definition-webhook-order', first.body.workflowId);
  } finally {
    await relay.close();
  }
});
