import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createConnection } from 'mysql2/promise';
import { throwawayPostgresDatabase } from '@vansales/test-kit';
import { openDataConnection, tableChecksum, type DataConnection } from '@vansales/dataflow';
import type { TableRef } from '@vansales/protocol';
import {
  mariaConfig,
  pgConfig,
  sakilaDatabase,
  services,
  sakilaReader,
  startPlatform,
  type Platform,
} from './support/harness';
import { startStandin, type Standin } from './support/saas-standin';
import { activityAttempts, publishAndRun, type RunView } from './support/definition-rest';
import { saveHistory } from './support/history-recorder';

/**
 * Issue 10 item 7: the integration patterns of the design, each as a definition a workflow author
 * creates, publishes and runs through REST alone, on the real interpreter (definitionWorkflow),
 * Temporal, agent, buffer and databases. Each checks the data at the end: counts, and checksums
 * where rows move. The SaaS APIs are stand-ins (support/saas-standin.ts, a real HTTP server with its
 * own OpenAPI document); the warehouse is a PostgreSQL database the cloud reaches; the site's
 * databases are Sakila on MariaDB and a PostgreSQL of its own.
 */
jest.setTimeout(240_000);

const record = process.env.VSC_RECORD_HISTORIES === '1';
const TOKEN_A = `crm-a-${randomBytes(12).toString('hex')}`;
const TOKEN_B = `crm-b-${randomBytes(12).toString('hex')}`;

let platform: Platform;
let tenantId: string;
let siteId: string;
let dw: { name: string; url: string; drop: () => Promise<void> };
let sitePg: { name: string; url: string; drop: () => Promise<void> };
let warehouse: DataConnection;
let sitePgConn: DataConnection;
let sakila: DataConnection;
const standins: Standin[] = [];

beforeAll(async () => {
  platform = await startPlatform();
  tenantId = `pat${randomBytes(3).toString('hex')}`;
  expect((await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Patterns' })).status).toBe(201);
  dw = await throwawayPostgresDatabase('vsc_patdw');
  sitePg = await throwawayPostgresDatabase('vsc_patsite');
  // The cloud reaches the warehouse and, as a cloud source, Pagila on PostgreSQL.
  platform.setCloudDatabases({
    [tenantId]: {
      dw: pgConfig(dw.url, dw.name),
      pagila: pgConfig(services.postgresUrl('pagila'), 'pagila'),
    },
  });
  warehouse = await openDataConnection(pgConfig(dw.url, dw.name));
  sitePgConn = await openDataConnection(pgConfig(sitePg.url, sitePg.name));
  sakila = await openDataConnection(mariaConfig('sakila'));
  const c = (
    await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name: 'site' })
  ).body;
  siteId = c.id;
  const policyFile = join(mkdtempSync(join(tmpdir(), 'vsc-pat-')), 'policy.json');
  writeFileSync(
    policyFile,
    JSON.stringify({
      writableTables: [{ database: 'local', table: '*' }],
      // Phone numbers are masked before any row leaves the site.
      columns: [{ database: 'sakila', table: 'address', column: 'phone', action: 'mask' }],
    }),
  );
  const agent = platform.startAgent({
    apiKey: c.apiKey,
    databases: { sakila: sakilaDatabase(await sakilaReader()), local: pgConfig(sitePg.url, sitePg.name) },
    policyFile,
  });
  await agent.welcomed;
  platform.setCloudCredentials({
    [tenantId]: { 'crm-a': { kind: 'bearer', token: TOKEN_A }, 'crm-b': { kind: 'bearer', token: TOKEN_B } },
  });
}, 180_000);

afterAll(async () => {
  await warehouse?.close();
  await sitePgConn?.close();
  await sakila?.close();
  await Promise.all(standins.map((s) => s.close()));
  await platform?.close();
  await dw?.drop();
  await sitePg?.drop();
});

/** A stand-in SaaS of its own for one test (its faults and its log are that test's only). */
async function saas(token: string, contacts = 1000): Promise<Standin> {
  const s = await startStandin({ auth: { kind: 'bearer', token }, contacts });
  standins.push(s);
  return s;
}

const site = (database: string) => ({ kind: 'site-db' as const, connectorId: siteId, database });
const cloudDb = (database: string) => ({ kind: 'cloud-db' as const, database });
const api = (s: Standin, credential: string) => ({ kind: 'http' as const, baseUrl: s.baseUrl, credential });
const readContacts = (s: Standin, credential: string) => ({
  endpoint: api(s, credential),
  method: 'GET' as const,
  path: '/contacts',
  query: { limit: '100' },
  records: 'data',
  pagination: { kind: 'cursor' as const, next: 'next_cursor', param: 'cursor' },
});

const sha = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');
/** Records as sorted-key objects sorted by `key`: a checksum that does not depend on column or arrival order. */
const canonical = (records: Record<string, unknown>[], key: string) =>
  records
    .map((r) => Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b))))
    .sort((a, b) => String(a[key]).localeCompare(String(b[key]), 'en', { numeric: true }));

async function pgRows(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

async function sakilaRows(sql: string): Promise<Record<string, unknown>[]> {
  const conn = await createConnection({ ...services.mariadb, database: 'sakila' });
  try {
    return (await conn.query(sql))[0] as Record<string, unknown>[];
  } finally {
    await conn.end();
  }
}

/** The checksum of a Sakila table and of its copy, over the columns of the source. */
async function sameRows(copy: DataConnection, table: string, into: TableRef, keys: string[]) {
  const described = (await sakila.describeTable({ name: table }))!;
  const source = await tableChecksum(sakila, { name: table }, described.columns, keys);
  const there = (await copy.describeTable(into))!.columns.filter((c) =>
    described.columns.some((s) => s.name === c.name),
  );
  expect(there.map((c) => c.name).sort()).toEqual(described.columns.map((c) => c.name).sort());
  expect(await tableChecksum(copy, into, there, keys)).toEqual(source);
  return source;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

async function keep(name: string, view: RunView) {
  if (record) await saveHistory(platform, name, view.runId);
}

const completed = (view: RunView) => {
  expect({ status: view.status, state: view.run?.state }).toEqual({ status: 'completed', state: 'completed' });
  return view.run!;
};

test('3.1.1 site DB -> site DB: MariaDB to PostgreSQL on one site, as one transfer; no row crosses the socket', async () => {
  const framesBefore = platform.frames.length;
  const bufferBefore = filesUnder(platform.bufferDir);
  const view = await publishAndRun(platform, tenantId, 'p311-site-to-site', {
    name: 'films to the site warehouse',
    steps: [
      { id: 'films', kind: 'source', db: { endpoint: site('sakila'), table: { name: 'film' } } },
      {
        id: 'local-films',
        kind: 'destination',
        db: { endpoint: site('local'), table: { name: 'film' }, keyColumns: ['film_id'], createIfMissing: true },
      },
    ],
    edges: [{ from: 'films', to: 'local-films' }],
  });
  const run = completed(view);
  expect(run.steps.films).toMatchObject({ placement: { kind: 'site-transfer', connectorId: siteId } });
  expect(run.steps['local-films']).toMatchObject({ placement: { kind: 'site-transfer', connectorId: siteId } });
  expect(run.steps.films!.route).toContain('one transfer on the site, nothing crosses the socket');
  expect(run.steps['local-films']!.output!.value).toMatchObject({ rowCount: 1000, transfer: true });
  // One activity on the site; no extract, no load, no buffer object.
  expect((await activityAttempts(platform, view.runId)).map((a) => a.type)).toEqual(['dataTransfer']);
  expect(filesUnder(platform.bufferDir)).toEqual(bufferBefore);
  // No row in any frame the agent sent: a title of the first film, anywhere.
  const frames = platform.frames.slice(framesBefore);
  expect(frames.length).toBeGreaterThan(0);
  expect(frames.some((f) => f.includes('ACADEMY DINOSAUR'))).toBe(false);
  const sums = await sameRows(sitePgConn, 'film', { name: 'film' }, ['film_id']);
  expect(sums.rows).toBe(1000);
  await keep('pattern-3-1-1-site-to-site', view);
});

test('3.2.1 SaaS -> SaaS with a field mapping, cloud only', async () => {
  const crm = await saas(TOKEN_A, 1000);
  const shop = await saas(TOKEN_B, 0);
  const view = await publishAndRun(platform, tenantId, 'p321-saas-to-saas', {
    name: 'CRM contacts to the shop',
    steps: [
      { id: 'contacts', kind: 'source', http: readContacts(crm, 'crm-a') },
      {
        id: 'mapping',
        kind: 'transform',
        transform: {
          op: 'map',
          fields: {
            customer_ref: '"crm-" & $string(id)',
            display_name: '$uppercase(name)',
            email: 'email',
            vip: '"vip" in tags',
          },
        },
      },
      {
        id: 'customers',
        kind: 'destination',
        http: { endpoint: api(shop, 'crm-b'), method: 'POST', path: '/contacts', batchSize: 100 },
      },
    ],
    edges: [
      { from: 'contacts', to: 'mapping' },
      { from: 'mapping', to: 'customers' },
    ],
  });
  const run = completed(view);
  for (const id of ['contacts', 'mapping', 'customers']) expect(run.steps[id]!.placement).toEqual({ kind: 'cloud' });
  expect(run.steps.contacts!.route).toContain('cloud API to cloud API: cloud only');
  expect(run.steps.customers!.output!.value).toEqual({ requests: 10, records: 1000, retried: 0 });
  const expected = crm.contacts.map((c) => ({
    customer_ref: `crm-${c.id}`,
    display_name: c.name.toUpperCase(),
    email: c.email,
    vip: c.tags.includes('vip'),
  }));
  expect(shop.created).toHaveLength(1000);
  expect(sha(canonical(shop.created, 'customer_ref'))).toBe(sha(canonical(expected, 'customer_ref')));
  // Both APIs saw only their own credential; no connector was involved.
  expect(crm.log.every((r) => r.authorized) && shop.log.every((r) => r.authorized)).toBe(true);
  expect(
    (await activityAttempts(platform, view.runId)).map((a) => a.type).filter((t) => /^(data|site)/.test(t)),
  ).toEqual([]);
  await keep('pattern-3-2-1-saas-to-saas', view);
});

test('3.2.2 cloud DB -> an internet API (POST), retrying 429/5xx and honouring Retry-After', async () => {
  const target = await saas(TOKEN_A, 0);
  target.inject({ method: 'POST', path: '/contacts', status: 429, retryAfter: '1' });
  target.inject({ method: 'POST', path: '/contacts', status: 503, times: 2 });
  // Applied, then the answer is lost: only the idempotency key keeps the retry from a duplicate.
  target.inject({ method: 'POST', path: '/contacts', status: 502, afterApply: true });
  const view = await publishAndRun(platform, tenantId, 'p322-cloud-db-to-api', {
    name: 'actors to the partner API',
    steps: [
      { id: 'actors', kind: 'source', db: { endpoint: cloudDb('pagila'), table: { name: 'actor' } } },
      {
        id: 'post',
        kind: 'destination',
        http: {
          endpoint: api(target, 'crm-a'),
          method: 'POST',
          path: '/contacts',
          batchSize: 1,
          idempotencyKey: 'actor_id',
          body: '{"actor_id": actor_id, "name": first_name & " " & last_name}',
        },
      },
    ],
    edges: [{ from: 'actors', to: 'post' }],
  });
  const run = completed(view);
  expect(run.steps.actors!.route).toContain('cloud DB to cloud API: cloud only');
  expect(run.steps.post!.output!.value).toEqual({ requests: 200, records: 200, retried: 4 });
  const actors = await pgRows(
    services.postgresUrl('pagila'),
    "SELECT actor_id, first_name || ' ' || last_name AS name FROM actor",
  );
  expect(target.created).toHaveLength(200);
  expect(sha(canonical(target.created, 'actor_id'))).toBe(sha(canonical(actors, 'actor_id')));
  const posts = target.log.filter((r) => r.method === 'POST');
  expect(posts.map((r) => r.status).filter((s) => s !== 201)).toEqual([429, 503, 503, 502]);
  // The 429 said "1 second": the same record's next request came no sooner (the server's own clock).
  const limited = posts.findIndex((r) => r.status === 429);
  expect(posts[limited + 1]!.idempotencyKey).toBe(posts[limited]!.idempotencyKey);
  expect(posts[limited + 1]!.at - posts[limited]!.at).toBeGreaterThanOrEqual(1000);
  // Retried inside the activity: one attempt each.
  expect(await activityAttempts(platform, view.runId)).toEqual([
    { type: 'cloudExtract', attempt: 1 },
    { type: 'httpWrite', attempt: 1 },
  ]);
  await keep('pattern-3-2-2-cloud-db-to-api', view);
});

test('3.3.1 site DB -> buffer -> cloud transform -> warehouse', async () => {
  const view = await publishAndRun(platform, tenantId, 'p331-site-transform-warehouse', {
    name: 'payments per customer into the warehouse',
    steps: [
      {
        id: 'payments',
        kind: 'source',
        db: { endpoint: site('sakila'), table: { name: 'payment' }, columns: ['payment_id', 'customer_id', 'amount'] },
      },
      {
        id: 'per-customer',
        kind: 'transform',
        transform: {
          op: 'aggregate',
          groupBy: ['customer_id'],
          measures: { payments: { fn: 'count' }, total: { fn: 'sum', field: 'amount' } },
        },
      },
      {
        id: 'warehouse',
        kind: 'destination',
        db: {
          endpoint: cloudDb('dw'),
          table: { name: 'customer_payments' },
          keyColumns: ['customer_id'],
          createIfMissing: true,
        },
      },
    ],
    edges: [
      { from: 'payments', to: 'per-customer' },
      { from: 'per-customer', to: 'warehouse' },
    ],
  });
  const run = completed(view);
  expect(run.steps.payments).toMatchObject({ placement: { kind: 'site', connectorId: siteId } });
  expect(run.steps.payments!.route).toContain('site DB to cloud DB: site -> buffer -> cloud');
  expect(run.steps.payments!.route).toContain('the transform is heavy, so it runs in the cloud');
  expect(run.steps['per-customer']!.placement).toEqual({ kind: 'cloud' });
  expect(run.steps.warehouse!.placement).toEqual({ kind: 'cloud' });
  expect(run.steps.payments!.output!.dataset!.rows).toBe(16049);
  const expected = await sakilaRows(
    'SELECT customer_id, COUNT(*) AS payments, CAST(SUM(amount) AS CHAR) AS total FROM payment GROUP BY customer_id',
  );
  const got = await pgRows(dw.url, 'SELECT customer_id, payments, total FROM customer_payments');
  expect(got).toHaveLength(599);
  const cents = (rows: Record<string, unknown>[]) =>
    canonical(
      rows.map((r) => ({
        customer_id: Number(r.customer_id),
        payments: Number(r.payments),
        total: Math.round(Number(r.total) * 100),
      })),
      'customer_id',
    );
  expect(sha(cents(got))).toBe(sha(cents(expected)));
  // The site was asked what its policy protects (nothing in payment), then rows moved.
  expect((await activityAttempts(platform, view.runId)).map((a) => a.type)).toEqual([
    'sitePolicyDescribe',
    'dataExtract',
    'transformDataset',
    'cloudLoad',
  ]);
  await keep('pattern-3-3-1-site-transform-warehouse', view);
});

test('3.3.2 SaaS -> buffer -> site DB', async () => {
  const crm = await saas(TOKEN_A, 1000);
  const view = await publishAndRun(platform, tenantId, 'p332-saas-to-site', {
    name: 'CRM contacts into the site database',
    steps: [
      { id: 'contacts', kind: 'source', http: readContacts(crm, 'crm-a') },
      {
        id: 'site-contacts',
        kind: 'destination',
        db: { endpoint: site('local'), table: { name: 'crm_contacts' }, keyColumns: ['id'], createIfMissing: true },
      },
    ],
    edges: [{ from: 'contacts', to: 'site-contacts' }],
  });
  const run = completed(view);
  expect(run.steps.contacts!.placement).toEqual({ kind: 'cloud' });
  expect(run.steps['site-contacts']).toMatchObject({ placement: { kind: 'site', connectorId: siteId } });
  expect(run.steps['site-contacts']!.route).toContain('cloud API to site DB: cloud -> buffer -> site');
  expect(await sitePgConn.countRows({ name: 'crm_contacts' })).toBe(1000);
  const rows = await pgRows(sitePg.url, 'SELECT id, name, email, score, active, tags FROM crm_contacts');
  const normalContact = (r: Record<string, unknown>) => ({
    id: Number(r.id),
    name: r.name,
    email: r.email,
    score: Number(r.score),
    active: r.active,
    tags: typeof r.tags === 'string' ? JSON.parse(r.tags) : r.tags,
  });
  const normal = (r: object) => normalContact(r as Record<string, unknown>);
  expect(sha(canonical(rows.map(normal), 'id'))).toBe(sha(canonical(crm.contacts.map(normal), 'id')));
  expect((await activityAttempts(platform, view.runId)).map((a) => a.type)).toEqual(['httpRead', 'dataLoad']);
  await keep('pattern-3-3-2-saas-to-site', view);
});

test('3.4.1 fan-out: one extract, three destinations in parallel; the failing one retries alone', async () => {
  const crm = await saas(TOKEN_A, 0);
  // Six 503s (Retry-After 0): the first attempt spends its in-attempt retries and fails; Temporal retries it.
  crm.inject({ method: 'POST', path: '/contacts', status: 503, retryAfter: '0', times: 6 });
  const view = await publishAndRun(platform, tenantId, 'p341-fan-out', {
    name: 'categories everywhere',
    steps: [
      {
        id: 'categories',
        kind: 'source',
        db: { endpoint: site('sakila'), table: { name: 'category' } },
      },
      { id: 'fan', kind: 'parallel' },
      {
        id: 'to-crm',
        kind: 'destination',
        http: {
          endpoint: api(crm, 'crm-a'),
          method: 'POST',
          path: '/contacts',
          batchSize: 1,
          idempotencyKey: 'category_id',
        },
        onError: { continueOnError: false, retry: { maximumAttempts: 5, initialInterval: '1s' } },
      },
      {
        id: 'to-warehouse',
        kind: 'destination',
        db: {
          endpoint: cloudDb('dw'),
          table: { name: 'category' },
          keyColumns: ['category_id'],
          createIfMissing: true,
        },
      },
      {
        id: 'to-site',
        kind: 'destination',
        db: {
          endpoint: site('local'),
          table: { name: 'category_copy' },
          keyColumns: ['category_id'],
          createIfMissing: true,
        },
      },
    ],
    edges: [
      { from: 'categories', to: 'fan' },
      { from: 'fan', to: 'to-crm' },
      { from: 'fan', to: 'to-warehouse' },
      { from: 'fan', to: 'to-site' },
    ],
  });
  const run = completed(view);
  expect(run.steps['to-crm']!.placement).toEqual({ kind: 'cloud' });
  expect(run.steps['to-warehouse']!.placement).toEqual({ kind: 'cloud' });
  expect(run.steps['to-site']).toMatchObject({ placement: { kind: 'site', connectorId: siteId } });
  // Every destination has every row.
  expect(crm.created).toHaveLength(16);
  const categories = await sakilaRows('SELECT category_id, name FROM category');
  expect(
    sha(
      canonical(
        crm.created.map((c) => ({ category_id: c.category_id, name: c.name })),
        'category_id',
      ),
    ),
  ).toBe(sha(canonical(categories, 'category_id')));
  await sameRows(warehouse, 'category', { name: 'category' }, ['category_id']);
  await sameRows(sitePgConn, 'category', { name: 'category_copy' }, ['category_id']);
  // The failing destination was retried by Temporal; the extract and the other two ran once.
  const attempts = await activityAttempts(platform, view.runId);
  expect([...attempts].sort((a, b) => a.type.localeCompare(b.type))).toEqual([
    { type: 'cloudLoad', attempt: 1 },
    { type: 'dataExtract', attempt: 1 },
    { type: 'dataLoad', attempt: 1 },
    { type: 'httpWrite', attempt: 2 },
  ]);
  expect(crm.log.filter((r) => r.status === 503)).toHaveLength(6);
  await keep('pattern-3-4-1-fan-out', view);
});

test('3.4.2 fan-in: site DB + two SaaS, merged, deduplicated, loaded to the warehouse', async () => {
  const crmA = await saas(TOKEN_A, 300);
  const crmB = await saas(TOKEN_B, 500);
  const people = { email: 'email', name: 'name' };
  const view = await publishAndRun(platform, tenantId, 'p342-fan-in', {
    name: 'one people list',
    steps: [
      {
        id: 'customers',
        kind: 'source',
        db: {
          endpoint: site('sakila'),
          table: { name: 'customer' },
          columns: ['customer_id', 'first_name', 'last_name', 'email'],
        },
      },
      {
        id: 'site-people',
        kind: 'transform',
        transform: { op: 'map', fields: { email: '$lowercase(email)', name: 'first_name & " " & last_name' } },
      },
      { id: 'crm-a', kind: 'source', http: readContacts(crmA, 'crm-a') },
      { id: 'a-people', kind: 'transform', transform: { op: 'map', fields: people } },
      { id: 'crm-b', kind: 'source', http: readContacts(crmB, 'crm-b') },
      { id: 'b-people', kind: 'transform', transform: { op: 'map', fields: people } },
      { id: 'all', kind: 'merge', dedupeKey: ['email'] },
      {
        id: 'warehouse',
        kind: 'destination',
        db: { endpoint: cloudDb('dw'), table: { name: 'people' }, keyColumns: ['email'], createIfMissing: true },
      },
    ],
    edges: [
      { from: 'customers', to: 'site-people' },
      { from: 'crm-a', to: 'a-people' },
      { from: 'crm-b', to: 'b-people' },
      { from: 'site-people', to: 'all' },
      { from: 'a-people', to: 'all' },
      { from: 'b-people', to: 'all' },
      { from: 'all', to: 'warehouse' },
    ],
  });
  const run = completed(view);
  // 599 + 300 + 500 in, the 300 contacts both CRMs have once: 1099 out.
  expect(run.steps.all!.output!.dataset!.rows).toBe(1099);
  expect(await warehouse.countRows({ name: 'people' })).toBe(1099);
  const customers = await sakilaRows(
    "SELECT LOWER(email) AS email, CONCAT(first_name, ' ', last_name) AS name FROM customer",
  );
  const expected = [...customers, ...crmB.contacts.map((c) => ({ email: c.email, name: c.name }))];
  const got = await pgRows(dw.url, 'SELECT email, name FROM people');
  expect(sha(canonical(got, 'email'))).toBe(sha(canonical(expected, 'email')));
  await keep('pattern-3-4-2-fan-in', view);
});

test("3.3.1 with rows the site's policy protects: their transform runs on the site, as the agent's data.transform", async () => {
  const addresses = (columns?: string[]) => ({
    name: 'addresses into the warehouse',
    steps: [
      {
        id: 'addresses',
        kind: 'source' as const,
        db: { endpoint: site('sakila'), table: { name: 'address' }, ...(columns ? { columns } : {}) },
      },
      {
        id: 'tidy',
        kind: 'transform' as const,
        transform: { op: 'map' as const, fields: { address_id: 'address_id', line: '$uppercase(address)' } },
      },
      {
        id: 'warehouse',
        kind: 'destination' as const,
        db: {
          endpoint: cloudDb('dw'),
          table: { name: 'address_lines' },
          keyColumns: ['address_id'],
          createIfMissing: true,
        },
      },
    ],
    edges: [
      { from: 'addresses', to: 'tidy' },
      { from: 'tidy', to: 'warehouse' },
    ],
  });
  // Every column read, phone among them: the router keeps the transform on the site, and the agent runs it.
  const onSite = await publishAndRun(platform, tenantId, 'p331-protected', addresses());
  const kept = completed(onSite);
  const step = kept.steps.addresses!;
  expect(step).toMatchObject({ state: 'completed', placement: { kind: 'site', connectorId: siteId } });
  expect(step.route).toContain('the transform runs on the site: its policy protects rows read');
  expect(kept.steps.tidy!.placement).toEqual({ kind: 'site', connectorId: siteId });
  expect((await activityAttempts(platform, onSite.runId)).map((a) => a.type)).toEqual([
    'sitePolicyDescribe',
    'dataExtract',
    'dataTransform',
    'cloudLoad',
  ]);
  expect(await warehouse.countRows({ name: 'address_lines' })).toBe(603);

  // Only unprotected columns read: the transform runs in the cloud as before.
  const view = await publishAndRun(
    platform,
    tenantId,
    'p331-protected',
    addresses(['address_id', 'address', 'district']),
  );
  const run = completed(view);
  expect(run.steps.tidy!.placement).toEqual({ kind: 'cloud' });
  expect(await warehouse.countRows({ name: 'address_lines' })).toBe(603);
  // (pattern-3-3-1-policy-protected, recorded before agents ran transforms, keeps the refusal's replay.)
  await keep('pattern-3-3-1-policy-protected-on-site', onSite);
});
