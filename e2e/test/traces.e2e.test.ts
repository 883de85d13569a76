import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatformProcesses, type ProcessPlatform } from '@vansales/bench/platform-processes';
import { sakilaDatabase, sakilaReader, until } from './support/harness';
import { startOtelReceiver, type OtelReceiver, type ReceivedSpan } from './support/otel-receiver';

const QUERY_ROUTE = 'POST /v1/tenants/:tenantId/queries';
const SQL = "SELECT actor_id, first_name FROM actor WHERE last_name = 'GUINESS' ORDER BY actor_id";

/** The span's ancestors, itself first, by parentSpanId within its trace. */
function lineage(span: ReceivedSpan, trace: ReceivedSpan[]): ReceivedSpan[] {
  const byId = new Map(trace.map((s) => [s.spanId, s]));
  const chain = [span];
  for (let parent = byId.get(span.parentSpanId); parent; parent = byId.get(parent.parentSpanId)) chain.push(parent);
  return chain;
}

/**
 * The gateway, the cloud worker and the agent as built processes (dist/main.js), each exporting its
 * spans over OTLP to a real OpenTelemetry Collector (infra/go/otel-receiver). One REST query runs a
 * workflow whose activity the agent executes; the collector must hold one trace from the request to
 * the agent's operation.
 */
describe('OpenTelemetry traces: REST request -> gateway -> Temporal -> agent, in a real collector', () => {
  let receiver: OtelReceiver;
  let platform: ProcessPlatform;
  let sakilaPassword: string;

  beforeAll(async () => {
    const work = mkdtempSync(join(tmpdir(), 'vsc-traces-'));
    receiver = await startOtelReceiver(work);
    const reader = await sakilaReader();
    sakilaPassword = reader.password;
    platform = await startPlatformProcesses(work, {
      label: 'vsc_traces',
      agentDatabases: { sakila: sakilaDatabase(reader) },
      writable: [],
      cloudDatabases: {},
      // Every process (the agent too) exports by itself; a short batch delay so the test waits less.
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' },
      log: (msg) => process.stderr.write(`${msg}\n`),
    });
  }, 600_000);
  afterAll(async () => {
    await platform?.close();
    await receiver?.close();
  });

  it('one trace holds the HTTP span, the Temporal client, workflow and activity spans and the agent span, parent-linked', async () => {
    const res = await fetch(`${platform.gatewayUrl}/v1/tenants/${platform.tenantId}/queries`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ connectorId: platform.connectorId, database: 'sakila', sql: SQL, wait: true }),
    });
    expect(res.status).toBe(200);

    // The request's span is the root of its trace; the agent's span arrives when the agent's batch goes.
    const { http, trace, agent } = await until(
      "the spans of the query, the agent's to the request's, to reach the collector",
      () => {
        const spans = receiver.spans();
        const roots = spans.filter((s) => s.name === QUERY_ROUTE);
        if (roots.length !== 1) return undefined;
        const root = roots[0]!;
        const inTrace = spans.filter((s) => s.traceId === root.traceId);
        const agentSpan = inTrace.find((s) => s.service === 'vsc-connector-agent');
        // Each process sends its batch when it will: wait until the agent's span reaches the request.
        if (!agentSpan || lineage(agentSpan, inTrace).at(-1) !== root) return undefined;
        return { http: root, trace: inTrace, agent: agentSpan };
      },
      60_000,
    );

    // The chain from the agent's operation up to the request, each span the parent of the one before.
    const chain = lineage(agent, trace).map((s) => `${s.service} ${s.name}`);
    expect(chain).toEqual([
      'vsc-connector-agent agent sql.query',
      expect.stringMatching(/^vsc-gateway RunActivity:/),
      expect.stringMatching(/^vsc-cloud-worker StartActivity:/),
      expect.stringMatching(/^vsc-cloud-worker RunWorkflow:/),
      expect.stringMatching(/^vsc-gateway StartWorkflow:/),
      `vsc-gateway ${QUERY_ROUTE}`,
    ]);
    expect(http.parentSpanId).toBe('');
    expect(http.attributes).toMatchObject({
      'http.route': '/v1/tenants/:tenantId/queries',
      'http.response.status_code': 200,
    });
    expect(agent.attributes).toMatchObject({
      'vsc.operation': 'sql.query',
      'vsc.database': 'sakila',
      'vsc.outcome': 'ok',
    });
    // Parent-linked throughout: every span of the trace but the request's has its parent in the trace.
    const ids = new Set(trace.map((s) => s.spanId));
    expect(trace.filter((s) => s !== http && !ids.has(s.parentSpanId))).toEqual([]);

    // What spans never carry: the statement, its values, a credential, the operator's token.
    const everything = JSON.stringify(receiver.spans());
    for (const secret of [SQL, 'GUINESS', sakilaPassword, platform.adminToken])
      expect(everything).not.toContain(secret);
  });

  it("a refused statement ends the agent's span as an error with the error type only", async () => {
    const res = await fetch(`${platform.gatewayUrl}/v1/tenants/${platform.tenantId}/queries`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        connectorId: platform.connectorId,
        database: 'sakila',
        sql: 'DELETE FROM actor',
        wait: true,
      }),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    const refused = await until(
      'the refused task span',
      () => receiver.spans().find((s) => s.service === 'vsc-connector-agent' && s.attributes['vsc.outcome'] !== 'ok'),
      60_000,
    );
    expect(refused.attributes['vsc.outcome']).toBe('SqlRefused');
    expect(refused.status).toEqual({ code: 2, message: 'SqlRefused' });
    // The gateway's activity span failed too; the guard's sentence (a database's message may quote a
    // value) stays out of its status and its exception event, which keeps the type only.
    const everything = JSON.stringify(receiver.spans());
    expect(everything).not.toContain('DELETE');
    const activity = receiver.spans().find((s) => s.spanId === refused.parentSpanId)!;
    expect(activity.name).toMatch(/^RunActivity:/);
    expect(activity.status).toEqual({ code: 2 });
  });

  it("no span carries Temporal's run data (memo, search attributes, results) or an agent session span", () => {
    const keys = new Set(receiver.spans().flatMap((s) => Object.keys(s.attributes)));
    for (const key of ['memo', 'searchAttributes', 'typedSearchAttributes', 'lastResult', 'lastFailure'])
      expect(keys).not.toContain(key);
    expect(receiver.spans().filter((s) => s.name.includes('/v1/agent/connect'))).toEqual([]);
  });
});
