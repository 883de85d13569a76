import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePythonTool, SCHEMATHESIS } from '@vansales/infra';
import { sakilaDatabase, sakilaReader, startPlatform, type Platform } from './support/harness';

/**
 * The REST API fuzzed from its own /openapi.json by schemathesis, against a real gateway with a
 * tenant, a connected agent, a buffer object and tokens, so authenticated routes get past their
 * auth and reach real data, and with a second tenant's ids mixed in (the other-tenant case).
 *
 * Bounded for CI by a fixed number of examples per operation and a fixed seed. A deeper run (more
 * examples, the stateful phase) is the same file with settings:
 *   VSC_REST_FUZZ_EXAMPLES=300 VSC_REST_FUZZ_PHASES=examples,coverage,fuzzing,stateful VSC_REST_FUZZ_TIMEOUT_MS=3600000 ./vsc test rest-fuzz
 */
const EXAMPLES = Number(process.env.VSC_REST_FUZZ_EXAMPLES ?? 10);
const SEED = Number(process.env.VSC_REST_FUZZ_SEED ?? 20260902);
const PHASES = process.env.VSC_REST_FUZZ_PHASES ?? 'examples,coverage,fuzzing';
/** Jest's limit for the fuzz run: a deeper run sets a larger one. */
const RUN_TIMEOUT_MS = Number(process.env.VSC_REST_FUZZ_TIMEOUT_MS ?? 900_000);
/** What schemathesis checks on every answer: no 5xx, documented status, documented content type and body shape. */
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
];

/**
 * Answers that wait for an agent by design (a query or a discovery with wait, for a connector whose
 * agent is offline, e.g. one the fuzzer created): the fuzzer's time-out there is no finding.
 */
const WAITS_FOR_AGENT = new Set([
  'POST /v1/tenants/{tenantId}/queries',
  'POST /v1/tenants/{tenantId}/connectors/{connectorId}/schemas/{database}/discover',
]);
/**
 * Long enough for a registration, which builds the SDK in a fresh worker thread (seconds on a loaded
 * 2-core machine, most of it loading the ingestion's validators): the fuzz judges statuses and bodies,
 * never time; a request that hangs still fails it. A CI run at load 15 failed at 5 s on
 * `POST …/apis/{apiId}/versions` with the spec "0" (refused, correctly, after 6-11 s).
 */
const REQUEST_TIMEOUT_SECONDS = 30;

/** The blocks of one section of schemathesis's report (FAILURES, ERRORS), by operation. */
function reportSection(output: string, name: string): { operation: string; text: string }[] {
  const blocks: { operation: string; text: string }[] = [];
  let inside = false;
  for (const line of output.split('\n')) {
    const header = /^\s*=+ ([A-Z ]+?) =+\s*$/.exec(line);
    if (header) {
      inside = header[1] === name;
      continue;
    }
    if (!inside) continue;
    const title = /^\s*_*\s*(GET|POST|PUT|PATCH|DELETE|OPTIONS|HEAD) (\/\S*)\s*_*\s*$/.exec(line);
    if (title) blocks.push({ operation: `${title[1]} ${title[2]}`, text: '' });
    else if (blocks.length) blocks[blocks.length - 1]!.text += `${line}\n`;
  }
  return blocks;
}

interface RunResult {
  code: number | null;
  output: string;
  /** One line per request schemathesis sent: method, path, status. */
  requests: { operation: string; status: number }[];
}

/** Runs schemathesis once; the run's NDJSON events give the requests it sent and the failures it found. */
function runSchemathesis(
  bin: string,
  dir: string,
  baseUrl: string,
  pass: { name: string; token: string; filter: string[] },
): Promise<RunResult> {
  const events = join(dir, `${pass.name}.ndjson`);
  const args = [
    '--config-file',
    join(dir, 'schemathesis.toml'),
    'run',
    `${baseUrl}/openapi.json`,
    '--url',
    baseUrl,
    '--checks',
    CHECKS.join(','),
    '--max-examples',
    String(EXAMPLES),
    '--seed',
    String(SEED),
    '--phases',
    PHASES,
    '--workers',
    '1',
    '--request-timeout',
    String(REQUEST_TIMEOUT_SECONDS),
    '--no-color',
    '--report',
    'ndjson',
    '--report-ndjson-path',
    events,
    '--output-truncate',
    'true',
    '--header',
    `Authorization: Bearer ${pass.token}`,
    ...pass.filter,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { ...process.env, NO_COLOR: '1' }, cwd: dir });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const requests: RunResult['requests'] = [];
      let text = '';
      try {
        text = readFileSync(events, 'utf8');
      } catch {
        // No report: the output says why.
      }
      for (const line of text.split('\n')) {
        if (!line.includes('"ScenarioFinished"')) continue;
        collectRequests(JSON.parse(line) as unknown, requests);
      }
      resolve({ code, output, requests });
    });
  });
}

/** Every recorded interaction under a ScenarioFinished event: its request method and URL, and the status. */
function collectRequests(value: unknown, out: RunResult['requests']): void {
  if (!value || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) collectRequests(v, out);
    return;
  }
  const o = value as Record<string, unknown>;
  const req = o.request as { method?: string; uri?: string } | undefined;
  const res = o.response as { status_code?: number } | undefined;
  if (req?.method && req.uri && typeof res?.status_code === 'number') {
    out.push({ operation: `${req.method} ${new URL(req.uri).pathname}`, status: res.status_code });
    return;
  }
  for (const v of Object.values(o)) collectRequests(v, out);
}

describe('REST API fuzzed from /openapi.json by schemathesis (real gateway, real services)', () => {
  let platform: Platform;
  let dir: string;
  let bin: string;
  let baseUrl: string;
  const tenantA = `fuzz-a-${randomBytes(3).toString('hex')}`;
  const tenantB = `fuzz-b-${randomBytes(3).toString('hex')}`;
  const passes: { name: string; token: string; filter: string[] }[] = [];
  let connectorA: { id: string; apiKey: string };
  const newConnector = async (tenantId: string, name: string) =>
    (await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name })).body;

  beforeAll(async () => {
    // Installed once per machine (a virtualenv under ~/.cache/vansales-connect); a warm check is a stat.
    bin = ensurePythonTool(SCHEMATHESIS, (l) => process.stdout.write(`${l}\n`));
    // The agent-auth throttle would answer most of the fuzzer's bad keys with 429 and leave the
    // challenge and enrol routes' own logic unfuzzed; the throttle has its own tests (agent-binding).
    platform = await startPlatform({ gateway: { VSC_AUTH_FAILURES_PER_WINDOW: '100000' } });
    baseUrl = platform.gatewayWsUrl.replace(/^ws/, 'http').replace(/\/v1\/agent\/connect$/, '');
    dir = mkdtempSync(join(tmpdir(), 'vsc-rest-fuzz-'));
    for (const [id, name] of [
      [tenantA, 'Fuzz A'],
      [tenantB, 'Fuzz B'],
    ])
      expect((await platform.api('POST', '/v1/tenants', { id, name })).status).toBe(201);
    const reader = await sakilaReader();
    // Every connector the fuzzer names has its agent connected: a query to an offline one waits for it
    // (by design, up to maxOfflineSeconds), which is a slow answer, not a finding.
    connectorA = await newConnector(tenantA, 'erp');
    const connectorB = await newConnector(tenantB, 'erp');
    // Revocation gets its own connector, so the others keep their agents for the rest of the run.
    const revocable = await newConnector(tenantA, 'revocable');
    for (const c of [connectorA, connectorB, revocable])
      await platform.startAgent({ apiKey: c.apiKey, databases: { sakila: sakilaDatabase(reader) } }).welcomed;
    const sync = await platform.api<{ workflowId: string }>('POST', `/v1/tenants/${tenantA}/syncs`, {
      source: { placement: 'connector', connectorId: connectorA.id, database: 'sakila' },
      destination: { placement: 'connector', connectorId: connectorA.id, database: 'sakila' },
      tables: [{ source: { name: 'actor' }, destination: { name: 'actor_copy' } }],
      intervalSeconds: 3600,
    });
    expect(sync.status).toBe(202);
    // A write token for tenant A's object; tenant B's object id is in the mix, so it is also tried on the other tenant's.
    const grantA = platform.gateway.grantBufferAccess({
      tenantId: tenantA,
      connectorId: connectorA.id,
      scope: 'write',
    });
    const grantB = platform.gateway.grantBufferAccess({
      tenantId: tenantB,
      connectorId: connectorB.id,
      scope: 'write',
    });
    // The buffer routes take a buffer token, the others the admin token: one pass each.
    passes.push(
      { name: 'control-plane', token: platform.adminToken, filter: ['--exclude-path-regex', '^/v1/buffer/'] },
      // Both buffer scopes are exercised by one write token: a read route refuses it (403), as it must.
      { name: 'buffer', token: grantA.token, filter: ['--include-path-regex', '^/v1/buffer/'] },
    );
    const values = (v: string[]) => `{ values = ${JSON.stringify(v)} }`;
    writeFileSync(
      join(dir, 'schemathesis.toml'),
      [
        '[dictionaries]',
        `tenants = ${values([tenantA, tenantB])}`,
        `connectors = ${values([connectorA.id, connectorB.id])}`,
        `databases = ${values(['sakila'])}`,
        `objects = ${values([grantA.objectId, grantB.objectId])}`,
        `workflows = ${values([sync.body.workflowId])}`,
        // Mixed into generated path parameters, so requests reach real rows (and the other tenant's).
        '[parameters]',
        '"path.tenantId" = { dictionary = "tenants", probability = 0.7 }',
        '"path.connectorId" = { dictionary = "connectors", probability = 0.7 }',
        '"path.database" = { dictionary = "databases", probability = 0.5 }',
        '"path.objectId" = { dictionary = "objects", probability = 0.7 }',
        '"path.workflowId" = { dictionary = "workflows", probability = 0.7 }',
        '[[operations]]',
        'include-operation-id = "revokeKeys"',
        `parameters = { "path.tenantId" = "${tenantA}", "path.connectorId" = "${revocable.id}" }`,
        '',
      ].join('\n'),
    );
  }, 600_000);

  afterAll(async () => {
    await platform?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'answers every generated request without a 5xx, with a documented status and the documented body',
    async () => {
      const started = Date.now();
      const run: RunResult = { code: 0, output: '', requests: [] };
      for (const pass of passes) {
        const one = await runSchemathesis(bin, dir, baseUrl, pass);
        // Each pass must finish (its summary names the seed) rather than stop on a configuration error.
        if (!one.output.includes(`Seed: ${SEED}`))
          throw new Error(
            `schemathesis (${pass.name}) did not finish (exit ${one.code}):\n${one.output.slice(-20_000)}`,
          );
        run.output += one.output;
        run.requests.push(...one.requests);
      }
      const operations = new Set(run.requests.map((r) => r.operation.replace(/\/[^/]*$/, '/…')));
      const byStatus: Record<string, number> = {};
      for (const r of run.requests) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
      const summary = run.output.split('\n').filter((l) => /passed|failed|Test cases|Operations|errored/i.test(l));
      process.stdout.write(
        `rest fuzz: ${run.requests.length} requests, statuses ${JSON.stringify(byStatus)}, ${Math.round((Date.now() - started) / 1000)} s\n${summary.join('\n')}\n`,
      );
      const failures = reportSection(run.output, 'FAILURES');
      const errors = reportSection(run.output, 'ERRORS').filter(
        (e) => !(WAITS_FOR_AGENT.has(e.operation) && /Read timed out/.test(e.text)),
      );
      if (failures.length || errors.length)
        throw new Error(
          `schemathesis found ${failures.length} failing and ${errors.length} erroring operations:\n${[
            ...failures,
            ...errors,
          ]
            .map((f) => `${f.operation}\n${f.text}`)
            .join('\n')
            .slice(0, 20_000)}`,
        );
      // The run really exercised the API: authenticated routes answered 2xx at least sometimes.
      expect(run.requests.length).toBeGreaterThan(200);
      expect(operations.size).toBeGreaterThan(5);
      expect(Object.keys(byStatus).some((s) => s.startsWith('2'))).toBe(true);
      expect(Object.keys(byStatus).filter((s) => s.startsWith('5'))).toEqual([]);
    },
    RUN_TIMEOUT_MS,
  );

  it('refuses a schema version past PostgreSQL integer with a 400 naming the range (was a 500)', async () => {
    // A real connector: for an unknown one the answer is a 404 before any version is looked up.
    const connector = connectorA.id;
    for (const query of ['version=9007199254740990', 'version=2147483648']) {
      const res = await platform.gateway.app.inject({
        method: 'GET',
        url: `/v1/tenants/${tenantA}/connectors/${connector}/schemas/sakila?${query}`,
        headers: { authorization: `Bearer ${platform.adminToken}` },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: { code: 'BAD_REQUEST', message: expect.stringMatching(/2147483647/) } });
    }
    const diff = await platform.gateway.app.inject({
      method: 'GET',
      url: `/v1/tenants/${tenantA}/connectors/${connector}/schemas/sakila/diff?from=1&to=9007199254740990`,
      headers: { authorization: `Bearer ${platform.adminToken}` },
    });
    expect(diff.statusCode).toBe(400);
    expect(diff.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
  });

  it('answers a diff naming a version that does not exist with a 404 (was a 500)', async () => {
    const res = await platform.gateway.app.inject({
      method: 'GET',
      url: `/v1/tenants/${tenantA}/connectors/${connectorA.id}/schemas/sakila/diff?from=1&to=2147483646`,
      headers: { authorization: `Bearer ${platform.adminToken}` },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: expect.stringMatching(/no version/) } });
  });

  it('answers "run now" on a sync that has finished with a 409 (was a 500)', async () => {
    const started = await platform.api<{ workflowId: string }>('POST', `/v1/tenants/${tenantA}/syncs`, {
      source: { placement: 'connector', connectorId: connectorA.id, database: 'sakila' },
      destination: { placement: 'connector', connectorId: connectorA.id, database: 'sakila' },
      tables: [{ source: { name: 'actor' }, destination: { name: 'actor_copy' } }],
      intervalSeconds: 3600,
    });
    await platform.temporal.workflow.getHandle(started.body.workflowId).terminate('test: a finished sync');
    const res = await platform.api('POST', `/v1/tenants/${tenantA}/syncs/${started.body.workflowId}/run-now`);
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      error: { code: 'CONFLICT', message: expect.stringMatching(/no longer running/), status: 'TERMINATED' },
    });
  });

  it('documents bodyless answers (CORS preflight 204) without a content type, as they are sent', async () => {
    const doc = (await platform.gateway.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: unknown }> }>>;
    };
    const preflight = doc.paths['/v1/codec/decode']!.options!.responses['204']!;
    expect(preflight.content).toBeUndefined();
    const res = await platform.gateway.app.inject({ method: 'OPTIONS', url: '/v1/codec/decode' });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
  });
});
