import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { parseAgentConfig } from '@vansales/connector-agent';
import { generateApiKey } from '@vansales/protocol';
import { throwawayPostgresDatabase } from '@vansales/test-kit';
import { extractStepWorkflow, loadStepWorkflow } from '@vansales/workflows';
import { startPlatform, sakilaDatabase, sakilaReader, type Platform } from './support/harness';
import { selfSignedCert } from './support/self-signed-cert';

describe('agent over WSS (real TLS, real services)', () => {
  let platform: Platform;
  let cert: { certFile: string; keyFile: string };
  let tenantId: string;

  beforeAll(async () => {
    cert = selfSignedCert();
    platform = await startPlatform({ tls: cert });
    tenantId = `t-${randomBytes(4).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'TLS' });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('serves the agent endpoint over wss:// and runs a query through it', async () => {
    expect(platform.gatewayWsUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\//);
    const c = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name: 'tls' })
    ).body;
    const reader = await sakilaReader();
    const agent = platform.startAgent({
      apiKey: c.apiKey,
      tlsCaFile: cert.certFile,
      databases: { sakila: sakilaDatabase(reader) },
    });
    await agent.welcomed;
    const res = await platform.api<{ result?: { rows: unknown[][] } }>('POST', `/v1/tenants/${tenantId}/queries`, {
      connectorId: c.id,
      database: 'sakila',
      sql: 'SELECT COUNT(*) AS n FROM film',
    });
    // A 64-bit count within ±(2^53-1) is a JSON number (the agent's one value encoding).
    expect(res.body.result?.rows).toEqual([[1000]]);
  });

  it('moves rows through the buffer over HTTPS with the same trusted CA (extract, then load)', async () => {
    const c = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, {
        name: 'tls-data',
      })
    ).body;
    const reader = await sakilaReader();
    const pg = await throwawayPostgresDatabase('vsc_tls');
    const u = new URL(pg.url);
    const dir = mkdtempSync(join(tmpdir(), 'vsc-tls-policy-'));
    writeFileSync(join(dir, 'policy.json'), JSON.stringify({ writableTables: [{ database: 'dw', table: '*' }] }));
    const agent = platform.startAgent({
      apiKey: c.apiKey,
      tlsCaFile: cert.certFile,
      policyFile: join(dir, 'policy.json'),
      databases: {
        sakila: sakilaDatabase(reader),
        dw: {
          dialect: 'postgres',
          host: u.hostname,
          port: Number(u.port),
          user: decodeURIComponent(u.username),
          password: decodeURIComponent(u.password),
          database: pg.name,
        },
      },
    });
    await agent.welcomed;
    try {
      const run = <W extends Workflow>(workflow: W, input: Parameters<W>[0]) =>
        platform.temporal.workflow.execute(workflow, {
          taskQueue: platform.workflowTaskQueue,
          workflowId: `${workflow.name}-${randomBytes(4).toString('hex')}`,
          args: [input],
        } as unknown as WorkflowStartOptions<W>);
      const extracted = (await run(extractStepWorkflow, {
        tenantId,
        source: { placement: 'connector', connectorId: c.id, database: 'sakila' },
        table: { name: 'film' },
        chunkRows: 250,
      })) as { objectId: string; chunkCount: number };
      expect(extracted.chunkCount).toBe(4);
      const loaded = (await run(loadStepWorkflow, {
        tenantId,
        destination: { placement: 'connector', connectorId: c.id, database: 'dw' },
        table: { name: 'film' },
        keyColumns: ['film_id'],
        objectId: extracted.objectId,
      })) as { rowCount: number };
      expect(loaded.rowCount).toBe(1000);
    } finally {
      await agent.close();
      await pg.drop();
    }
  });

  it('does not connect to a gateway whose certificate it cannot verify, says why, and keeps retrying', async () => {
    const c = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, {
        name: 'untrusted',
      })
    ).body;
    const agent = platform.startAgent({ apiKey: c.apiKey });
    const deadline = Date.now() + 10_000;
    while (!agent.logLines().some((l) => /reconnecting/.test(l)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(agent.logLines().join('\n')).toMatch(
      /cannot reach the gateway at wss:\/\/127\.0\.0\.1:\d+\/v1\/agent\/connect: (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|self.signed)/i,
    );
    expect(platform.gateway.hub.isOnline(c.id)).toBe(false);
    await agent.close();
  });

  it('refuses plain ws:// to another machine before dialling', () => {
    expect(() =>
      parseAgentConfig({ gatewayUrl: 'ws://gateway.example.com/v1/agent/connect', apiKey: generateApiKey('acme') }),
    ).toThrow(/must use wss:\/\//);
  });
});
