import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { createConnection } from 'mysql2/promise';
import { CloseCode, generateApiKey } from '@vansales/protocol';
import { SearchAttribute } from '@vansales/temporal-config';
import { temporal } from '@temporalio/proto';
import { startPlatform, sakilaDatabase, sakilaReader, services, until, type Platform } from './support/harness';

const tenant = () => `t-${randomBytes(4).toString('hex')}`;

interface QueryResponse {
  workflowId: string;
  result?: { columns: { name: string }[]; rows: unknown[][]; rowCount: number; truncated: boolean };
  error?: { code: string; message: string; type?: string; workflowId?: string };
}

describe('agent query through gateway, WebSocket and Temporal (real services)', () => {
  let platform: Platform;
  let reader: { user: string; password: string };
  let tenantId: string;
  let connector: { id: string; apiKey: string };

  const sakila = () => ({ sakila: sakilaDatabase(reader) });

  beforeAll(async () => {
    platform = await startPlatform();
    reader = await sakilaReader();
    tenantId = tenant();
    expect((await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Acme' })).status).toBe(201);
    const created = await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, {
      name: 'hq',
    });
    expect(created.status).toBe(201);
    connector = created.body;
  });

  afterAll(async () => {
    await platform?.close();
  });

  it('runs a SELECT on MariaDB Sakila through the agent and returns the same rows the database holds', async () => {
    const agent = platform.startAgent({ apiKey: connector.apiKey, databases: sakila() });
    await agent.welcomed;
    const sql = 'SELECT film_id, title, rental_rate, release_year, last_update FROM film ORDER BY film_id LIMIT 25';
    const res = await platform.api<QueryResponse>('POST', `/v1/tenants/${tenantId}/queries`, {
      connectorId: connector.id,
      database: 'sakila',
      sql,
    });
    expect(res.status).toBe(200);

    const direct = await createConnection({
      ...services.mariadb,
      database: 'sakila',
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
    await direct.query("SET time_zone = '+00:00'");
    const [rows] = (await direct.query({ sql, rowsAsArray: true })) as unknown as [unknown[][]];
    await direct.end();
    // The agent's one encoding (connector-agent README): a TIMESTAMP is an instant, written in UTC with a Z.
    const utc = (t: string) => `${t.slice(0, 10)}T${t.slice(11)}Z`;
    expect(res.body.result?.rows).toEqual(
      rows.map(([id, title, rate, year, updated]) => [id, title, rate, year, utc(updated as string)]),
    );
    expect(res.body.result?.rowCount).toBe(25);
    expect(res.body.result?.columns.map((c) => c.name)).toEqual([
      'film_id',
      'title',
      'rental_rate',
      'release_year',
      'last_update',
    ]);

    // The run is visible to operators with its search attributes, and its activity ran on the connector's queue.
    const handle = platform.temporal.workflow.getHandle(res.body.workflowId);
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(SearchAttribute.TenantId)).toBe(tenantId);
    expect(description.typedSearchAttributes.get(SearchAttribute.ConnectorId)).toBe(connector.id);
    expect(description.typedSearchAttributes.get(SearchAttribute.DefinitionId)).toBe('builtin.agent-query');
    const history = await handle.fetchHistory();
    const scheduled = history.events?.find(
      (e) => e.activityTaskScheduledEventAttributes,
    )?.activityTaskScheduledEventAttributes;
    expect(scheduled?.taskQueue?.name).toBe(`connector.${connector.id}`);
    expect(scheduled?.activityType?.name).toBe('sqlQuery');
  });

  it('keeps tenants apart: another tenant cannot see or use this connector', async () => {
    const other = tenant();
    await platform.api('POST', '/v1/tenants', { id: other, name: 'Other' });
    const res = await platform.api<QueryResponse>('POST', `/v1/tenants/${other}/queries`, {
      connectorId: connector.id,
      database: 'sakila',
      sql: 'SELECT 1',
    });
    expect(res.status).toBe(404);
    const list = await platform.api<unknown[]>('GET', `/v1/tenants/${other}/connectors`);
    expect(list.body).toEqual([]);
  });

  it('fails the workflow with the database error, without retrying it', async () => {
    const res = await platform.api<QueryResponse>('POST', `/v1/tenants/${tenantId}/queries`, {
      connectorId: connector.id,
      database: 'sakila',
      sql: 'SELECT * FROM no_such_table',
    });
    expect(res.status).toBe(422);
    expect(res.body.error?.message).toMatch(/no_such_table/);
    const history = await platform.temporal.workflow.getHandle(res.body.error?.workflowId ?? '').fetchHistory();
    const attempts = history.events
      ?.filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes?.attempt);
    expect(attempts).toEqual([1]);
  });

  it('names a database the agent does not have', async () => {
    const res = await platform.api<QueryResponse>('POST', `/v1/tenants/${tenantId}/queries`, {
      connectorId: connector.id,
      database: 'erp',
      sql: 'SELECT 1',
    });
    expect(res.status).toBe(422);
    expect(res.body.error?.message).toBe('no database named erp is configured on this agent');
  });

  it('rejects a bad request body with a message naming the field', async () => {
    const res = await platform.api<QueryResponse>('POST', `/v1/tenants/${tenantId}/queries`, {
      connectorId: 'not-a-uuid',
      database: 'sakila',
      sql: 'SELECT 1',
    });
    expect(res.status).toBe(400);
    expect(res.body.error?.message).toMatch(/connectorId/);
    const noAuth = await platform.api('GET', `/v1/tenants/${tenantId}/connectors`, undefined, 'wrong-token');
    expect(noAuth.status).toBe(401);
  });
});

describe('offline agents, keys and frames (real services)', () => {
  let platform: Platform;
  let reader: { user: string; password: string };
  let tenantId: string;

  const newConnector = async (name: string) =>
    (await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name })).body;
  const sakila = () => ({ sakila: sakilaDatabase(reader) });

  beforeAll(async () => {
    platform = await startPlatform();
    reader = await sakilaReader();
    tenantId = tenant();
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Acme' });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('completes a workflow started while the agent was offline once the agent connects', async () => {
    const c = await newConnector('late');
    const started = await platform.api<{ workflowId: string }>('POST', `/v1/tenants/${tenantId}/queries`, {
      connectorId: c.id,
      database: 'sakila',
      sql: 'SELECT COUNT(*) AS n FROM rental',
      wait: false,
    });
    expect(started.status).toBe(202);
    const handle = platform.temporal.workflow.getHandle(started.body.workflowId);
    // The task is scheduled and waits in Temporal: nobody polls the queue of an offline connector.
    const pending = await until('the query task to be scheduled', async () => {
      const d = await handle.describe();
      return d.raw.pendingActivities?.[0] ? d : undefined;
    });
    expect(pending.status.name).toBe('RUNNING');
    expect(pending.raw.pendingActivities?.[0]?.state).toBe(
      temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
    );
    const agent = platform.startAgent({ apiKey: c.apiKey, databases: sakila() });
    await agent.welcomed;
    const result = (await handle.result()) as { rows: unknown[][] };
    // A 64-bit count within ±(2^53-1) is a JSON number (the agent's one encoding).
    expect(result.rows).toEqual([[16044]]);
  });

  it('turns an outage longer than the installation tolerates into a clear workflow error', async () => {
    const c = await newConnector('never-online');
    const res = await platform.api<QueryResponse>('POST', `/v1/tenants/${tenantId}/queries`, {
      connectorId: c.id,
      database: 'sakila',
      sql: 'SELECT 1',
      maxOfflineSeconds: 2,
    });
    expect(res.status).toBe(422);
    expect(res.body.error?.type).toBe('ConnectorOffline');
    expect(res.body.error?.message).toMatch(/stayed offline longer than 2 s/);
  });

  it('stops an agent whose key the gateway does not know, and says why', async () => {
    const agent = platform.startAgent({ apiKey: generateApiKey(tenantId) });
    await expect(agent.agent.done).resolves.toEqual({ code: 'key-rejected', message: 'unknown API key' });
  });

  it('refuses a second live connection with the same key and keeps the first one working', async () => {
    const c = await newConnector('dup');
    const first = platform.startAgent({ apiKey: c.apiKey, databases: sakila() });
    await first.welcomed;
    const headers = await platform.agentHeaders(c.apiKey);
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
      const ws = new WebSocket(platform.gatewayWsUrl, { headers });
      ws.on('open', () =>
        ws.send(
          JSON.stringify({
            type: 'hello',
            protocolVersion: 1,
            agentVersion: 't',
            machineId: 'm2',
            capabilities: [],
            concurrency: 1,
            databases: [],
          }),
        ),
      );
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    expect(closed.code).toBe(CloseCode.duplicateConnection);
    expect(closed.reason).toMatch(/already connected/);
    const res = await platform.api<QueryResponse>('POST', `/v1/tenants/${tenantId}/queries`, {
      connectorId: c.id,
      database: 'sakila',
      sql: 'SELECT 42 AS answer',
    });
    expect(res.body.result?.rows).toEqual([[42]]);
  });

  it('disconnects an agent whose key is revoked, and the agent stops retrying', async () => {
    const c = await newConnector('revoked');
    const agent = platform.startAgent({ apiKey: c.apiKey, databases: sakila() });
    await agent.welcomed;
    const res = await platform.api<{ revoked: number; disconnected: boolean }>(
      'POST',
      `/v1/tenants/${tenantId}/connectors/${c.id}/revoke`,
    );
    expect(res.body).toEqual({ revoked: 1, disconnected: true });
    await expect(agent.agent.done).resolves.toMatchObject({ code: 'key-revoked' });
    expect(platform.gateway.hub.isOnline(c.id)).toBe(false);
  });

  it('binds a key to the key pair of the machine that enrolled it, refuses and records it from another', async () => {
    const c = await newConnector('bound');
    const first = platform.startAgent({ apiKey: c.apiKey, databases: sakila() });
    await first.welcomed;
    await first.close();
    const elsewhere = platform.startAgent({ apiKey: c.apiKey, machineId: 'a-cloned-vm-somewhere' });
    await expect(elsewhere.agent.done).resolves.toMatchObject({
      code: 'key-bound-elsewhere',
      message: expect.stringMatching(/bound to the key pair of the machine that enrolled it/),
    });
    const refusals = await platform.api<{ machineId: string; reason: string }[]>(
      'GET',
      `/v1/tenants/${tenantId}/connectors/${c.id}/refusals`,
    );
    expect(refusals.body).toHaveLength(1);
    expect(refusals.body[0]?.reason).toBe('proof not signed by the enrolled key pair');
    // The original machine still connects.
    const again = platform.startAgent({ apiKey: c.apiKey, databases: sakila() });
    await again.welcomed;
  });

  it('answers malformed, unknown and oversized frames with a protocol error and keeps serving', async () => {
    const c = await newConnector('garbage');
    const ws = new WebSocket(platform.gatewayWsUrl, {
      headers: await platform.agentHeaders(c.apiKey),
    });
    const frames: { type: string; code?: string }[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.once('open', r));
    ws.send('{not json');
    ws.send(JSON.stringify({ type: 'launch-missiles' }));
    ws.send(JSON.stringify({ type: 'ping', nonce: 'x'.repeat(2_000_000) }));
    ws.send(
      JSON.stringify({
        type: 'hello',
        protocolVersion: 1,
        agentVersion: 't',
        machineId: 'm',
        capabilities: ['sql.query'],
        concurrency: 1,
        databases: [],
      }),
    );
    const deadline = Date.now() + 10_000;
    while (!frames.some((f) => f.type === 'welcome') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(frames.filter((f) => f.type === 'protocol-error').map((f) => f.code)).toEqual([
      'malformed-json',
      'invalid-frame',
      'frame-too-large',
    ]);
    expect(frames.some((f) => f.type === 'welcome')).toBe(true);
    ws.close();
  });

  it('never writes the database password or the API key into a log line', () => {
    const joined = platform.logs.lines.join('\n');
    expect(platform.logs.lines.length).toBeGreaterThan(0);
    expect(joined).not.toContain(reader.password);
    expect(joined).not.toMatch(/vmc_[a-z0-9-]+_[0-9A-Za-z]{40}_/);
  });
});
