import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createConnection } from 'mysql2/promise';
import { loadAgentConfig, openAuditLog, verifyAuditFile } from '@vansales/connector-agent';
import { runCli } from '@vansales/connector-agent';
import { startPlatform, services, type Platform } from './support/harness';

/** Every payload of a Temporal history, decoded to text, so a search sees what Temporal stored. */
function historyText(history: unknown): string {
  return JSON.stringify(history, (k, v) => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
    // Payload data is base64 in the JSON form of a history.
    if (k === 'data' && typeof v === 'string') return Buffer.from(v, 'base64').toString('utf8');
    return v;
  });
}

describe('credentials stay on site; every operation is audited on both sides (real services)', () => {
  let platform: Platform;
  let dir: string;
  let tenantId: string;
  let connectorId: string;
  let apiKey: string;
  const user = `vault_${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const workflowIds: string[] = [];

  beforeAll(async () => {
    const conn = await createConnection(services.mariadb);
    await conn.query(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY ${conn.escape(password)}`);
    await conn.query(`GRANT SELECT ON sakila.* TO '${user}'@'127.0.0.1'`);
    await conn.end();

    platform = await startPlatform();
    tenantId = `t-${randomBytes(4).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Vault' });
    const created = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, {
        name: 'vaulted',
      })
    ).body;
    connectorId = created.id;
    apiKey = created.apiKey;

    // Scripted install: secrets only through environment variables, never argv.
    dir = mkdtempSync(join(tmpdir(), 'vsc-site-'));
    const out = new PassThrough();
    const err = new PassThrough();
    const errText: string[] = [];
    err.on('data', (d) => errText.push(String(d)));
    const code = await runCli(
      [
        'init',
        '--non-interactive',
        '--dir',
        dir,
        '--gateway-url',
        platform.gatewayWsUrl,
        '--api-key-env',
        'SITE_KEY',
        '--database',
        `name=sakila,dialect=mysql,host=127.0.0.1,port=${services.mariadb.port},user=${user},database=sakila,password-env=SITE_DB_PW`,
      ],
      { stdin: new PassThrough(), stdout: out, stderr: err, env: { SITE_KEY: apiKey, SITE_DB_PW: password } },
    );
    expect(errText.join('')).toBe('');
    expect(code).toBe(0);
  });

  afterAll(async () => {
    await platform?.close();
  });

  it('writes no secret in clear into the site folder', () => {
    // Every file, the artifact cache's folder (api-artifacts/, made by init) included.
    const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(files.map((e) => e.name)).toContain('agent.json');
    for (const file of files) {
      const content = readFileSync(join(file.parentPath, file.name));
      expect(content.includes(password)).toBe(false);
      expect(content.includes(apiKey)).toBe(false);
    }
  });

  it('runs queries with the vaulted credentials and records them in both audit chains', async () => {
    const config = loadAgentConfig(join(dir, 'agent.json'));
    const audit = await openAuditLog({ path: join(dir, 'audit.jsonl') });
    const agent = platform.startAgent({ ...config, reconnect: { initialDelayMs: 50, maxDelayMs: 500 } }, { audit });
    await agent.welcomed;

    const ask = async (body: object) => {
      const res = await platform.api<{ workflowId?: string; result?: unknown; error?: { workflowId?: string } }>(
        'POST',
        `/v1/tenants/${tenantId}/queries`,
        { connectorId, ...body },
      );
      workflowIds.push((res.body.workflowId ?? res.body.error?.workflowId)!);
      return res;
    };
    expect(
      (await ask({ database: 'sakila', sql: 'SELECT title FROM film WHERE film_id = ?', params: [1] })).body.result,
    ).toMatchObject({ rows: [['ACADEMY DINOSAUR']] });
    expect(
      (await ask({ database: 'sakila', sql: 'SELECT title FROM film WHERE title = ?', params: ['param-secret-xyz'] }))
        .status,
    ).toBe(200);
    expect((await ask({ database: 'sakila', sql: 'SELECT nope FROM film' })).status).toBe(422);
    // Let the discovery the gateway starts on connect finish, so the chain holds it too.
    for (let i = 0; i < 200; i++) {
      const v = await platform.api<unknown[]>(
        'GET',
        `/v1/tenants/${tenantId}/connectors/${connectorId}/schemas/sakila/versions`,
      );
      if (v.body.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await agent.close();

    const lines = readFileSync(join(dir, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const local = await verifyAuditFile(join(dir, 'audit.jsonl'));
    expect(local).toMatchObject({ ok: true, count: lines.length });
    // The schema discovery the gateway runs on connect is an operation too.
    expect(lines.filter((l) => l.operation === 'schema.discover').map((l) => [l.outcome, l.statement])).toEqual([
      ['ok', undefined],
    ]);
    const queries = lines.filter((l) => l.operation === 'sql.query');
    expect(queries.map((l) => [l.operation, l.outcome, l.errorType, l.rows, l.tenantId, l.connectorId])).toEqual([
      ['sql.query', 'ok', undefined, 1, tenantId, connectorId],
      ['sql.query', 'ok', undefined, 0, tenantId, connectorId],
      ['sql.query', 'failed', 'SqlError', undefined, tenantId, connectorId],
    ]);
    expect(queries[1].statement).toMatchObject({
      text: 'SELECT title FROM film WHERE title = ?',
      paramCount: 1,
      paramTypes: ['string'],
    });
    expect(queries.map((l) => l.actor.workflowId)).toEqual(workflowIds);
    expect(readFileSync(join(dir, 'audit.jsonl'), 'utf8')).not.toContain('param-secret-xyz');

    const remote = await platform.api<{ ok: boolean; count: number }>(
      'GET',
      `/v1/tenants/${tenantId}/connectors/${connectorId}/audit/verify`,
    );
    expect(remote.body).toMatchObject({ ok: true, count: lines.length });
    const other = await platform.api('GET', `/v1/tenants/other-tenant/connectors/${connectorId}/audit/verify`);
    expect(other.status).toBe(404);
  });

  it('names the first broken link when a record of the site chain is altered', async () => {
    const path = join(dir, 'audit.jsonl');
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    const second = JSON.parse(lines[1]!);
    second.rows = 999;
    const tampered = join(dir, 'tampered.jsonl');
    writeFileSync(tampered, [lines[0], JSON.stringify(second), lines[2]].join('\n') + '\n');
    expect(await verifyAuditFile(tampered)).toMatchObject({ ok: false, brokenAt: 2, reason: 'hash-mismatch' });
  });

  it('never puts the database password or the API key in a frame, a log line or a Temporal history', async () => {
    expect(platform.frames.length).toBeGreaterThan(3);
    const frames = platform.frames.join('\n');
    const logs = platform.logs.lines.join('\n');
    const histories = await Promise.all(
      workflowIds.map((id) => platform.temporal.workflow.getHandle(id).fetchHistory()),
    );
    const text = historyText(histories);
    // Temporal stores our payloads encrypted: not even the statement is readable in a history.
    expect(text).toContain(Buffer.from('binary/encrypted').toString('base64')); // metadata values stay base64 here
    expect(text).not.toContain('SELECT title FROM film');
    // Failure text too (a database error can quote customer data); the API still shows it, decoded.
    expect(text).not.toContain("Unknown column 'nope'");
    // Operators still read them through the codec endpoint (what the Web UI calls).
    const started = histories[0]!.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
    const decoded = await platform.gateway.app.inject({
      method: 'POST',
      url: '/v1/codec/decode',
      headers: { authorization: `Bearer ${platform.adminToken}` },
      payload: {
        payloads: started.map((p) => ({
          metadata: Object.fromEntries(
            Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
          ),
          data: Buffer.from(p.data!).toString('base64'),
        })),
      },
    });
    const plain = Buffer.from(
      (decoded.json() as { payloads: { data: string }[] }).payloads[0]!.data,
      'base64',
    ).toString('utf8');
    expect(plain).toContain('SELECT title FROM film WHERE film_id = ?');
    expect(plain).not.toContain(password);
    const refused = await platform.gateway.app.inject({
      method: 'POST',
      url: '/v1/codec/decode',
      payload: { payloads: [] },
    });
    expect(refused.statusCode).toBe(401);
    for (const [name, haystack] of Object.entries({ frames, logs, histories: text })) {
      expect({ name, password: haystack.includes(password) }).toEqual({ name, password: false });
      expect({ name, apiKey: haystack.includes(apiKey) }).toEqual({ name, apiKey: false });
    }
  });
});
