/**
 * Records one history of each published workflow into workflows/test/histories/, for the replay
 * test. Run it after changing a workflow on purpose (with `./vsc services` up):
 *   node --import tsx e2e/test/support/record-histories.ts
 * A change that breaks replay of an old history must not ship without versioning (patched()).
 * The HTTP step and site policy workflows need the stand-in SaaS and a site API: their histories
 * come from `VSC_RECORD_HISTORIES=1 ./vsc test http-steps` (e2e/test/http-steps.e2e.test.ts), the
 * interpreter's site-API pattern runs from `VSC_RECORD_HISTORIES=1 ./vsc test patterns-site-api`, and the
 * site -> cloud sync whose extract and load overlap from `VSC_RECORD_HISTORIES=1 ./vsc test streaming-sync`.
 * Site transforms (`definition-site-transform*`: on the agent, and after a continue-as-new) come from
 * `VSC_RECORD_HISTORIES=1 ./vsc test site-transform`; the site-event watcher (`site-event-watcher-in-turn`,
 * `site-event-watcher-start-now`) and a batch's run from `VSC_RECORD_HISTORIES=1 ./vsc test site-event`
 * (each run rewrites the files of its test: keep an older history that covers an older path). The agent's
 * specification fetch (`api-spec-fetch`) comes from `VSC_RECORD_HISTORIES=1 ./vsc test api-site-spec`.
 */
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Workflow } from '@temporalio/common';
import type { WorkflowStartOptions } from '@temporalio/client';
import {
  bufferPurgeWorkflow,
  dataSyncWorkflow,
  dataTransferWorkflow,
  extractStepWorkflow,
  loadStepWorkflow,
  pingWorkflow,
} from '@vansales/workflows';
import { startPlatform, sakilaDatabase, sakilaReader } from './harness';
import { saveHistory } from './history-recorder';

async function main(): Promise<void> {
  const platform = await startPlatform();
  const save = async (name: string, workflowId: string) => {
    const events = await saveHistory(platform, name, workflowId);
    process.stdout.write(`recorded ${name} (${events} events)\n`);
  };
  try {
    const tenantId = `rec-${randomBytes(3).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Recorder' });
    const c = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name: 'site' })
    ).body;
    const reader = await sakilaReader();
    const agent = platform.startAgent({ apiKey: c.apiKey, databases: { sakila: sakilaDatabase(reader) } });
    await agent.welcomed;

    const ok = await platform.api<{ workflowId: string }>('POST', `/v1/tenants/${tenantId}/queries`, {
      connectorId: c.id,
      database: 'sakila',
      sql: 'SELECT film_id, title FROM film ORDER BY film_id LIMIT 3',
    });
    await save('agent-query-ok', ok.body.workflowId);
    const failed = await platform.api<{ error: { workflowId: string } }>('POST', `/v1/tenants/${tenantId}/queries`, {
      connectorId: c.id,
      database: 'sakila',
      sql: 'SELECT nope FROM film',
    });
    await save('agent-query-sql-error', failed.body.error.workflowId);
    const offline = await platform.api<{ error: { workflowId: string } }>('POST', `/v1/tenants/${tenantId}/queries`, {
      connectorId: (
        await platform.api<{ id: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name: 'offline' })
      ).body.id,
      database: 'sakila',
      sql: 'SELECT 1',
      maxOfflineSeconds: 1,
    });
    await save('agent-query-connector-offline', offline.body.error.workflowId);
    const discovered = await platform.api<{ workflowId: string }>(
      'POST',
      `/v1/tenants/${tenantId}/connectors/${c.id}/schemas/sakila/discover`,
    );
    await save('schema-discovery', discovered.body.workflowId);
    const pingId = `ping-${randomBytes(4).toString('hex')}`;
    await platform.temporal.workflow.execute(pingWorkflow, {
      taskQueue: platform.workflowTaskQueue,
      workflowId: pingId,
      args: [{ placement: { kind: 'connector', connectorId: c.id }, count: 4, concurrency: 2 }],
    });
    await save('ping-agent', pingId);

    // Data plane: a sync through the buffer (two connectors), one on one site (transfer), the
    // extract and load steps, a one-table transfer, and the buffer purge.
    const { throwawayPostgresDatabase } = await import('@vansales/test-kit');
    const dw = await throwawayPostgresDatabase('vsc_rec');
    const u = new URL(dw.url);
    const dwConfig = {
      dialect: 'postgres' as const,
      host: u.hostname,
      port: Number(u.port),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: dw.name,
    };
    const { mkdtempSync, writeFileSync: write } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const policyFile = join(mkdtempSync(join(tmpdir(), 'vsc-rec-')), 'policy.json');
    write(policyFile, JSON.stringify({ writableTables: [{ database: 'dw', table: '*' }] }));
    const c2 = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, {
        name: 'warehouse',
      })
    ).body;
    const both = platform.startAgent({
      apiKey: c2.apiKey,
      databases: { sakila: sakilaDatabase(reader), dw: dwConfig },
      policyFile,
    });
    await both.welcomed;
    const run = async <W extends Workflow>(name: string, workflow: W, input: Parameters<W>[0]) => {
      const workflowId = `${name}-${randomBytes(4).toString('hex')}`;
      const result = await platform.temporal.workflow.execute(workflow, {
        taskQueue: platform.workflowTaskQueue,
        workflowId,
        args: [input],
      } as unknown as WorkflowStartOptions<W>);
      await save(name, workflowId);
      return result;
    };
    await run('data-sync-buffer', dataSyncWorkflow, {
      tenantId,
      source: { placement: 'connector', connectorId: c.id, database: 'sakila' },
      destination: { placement: 'connector', connectorId: c2.id, database: 'dw' },
      tables: [{ source: { name: 'actor' }, cursorColumn: 'last_update' }, { source: { name: 'category' } }],
      maxRuns: 2,
    });
    await run('data-sync-same-site', dataSyncWorkflow, {
      tenantId,
      source: { placement: 'connector', connectorId: c2.id, database: 'sakila' },
      destination: { placement: 'connector', connectorId: c2.id, database: 'dw' },
      tables: [{ source: { name: 'language' }, destination: { name: 'language_copy' } }],
    });
    const extracted = (await run('extract-step', extractStepWorkflow, {
      tenantId,
      source: { placement: 'connector', connectorId: c.id, database: 'sakila' },
      table: { name: 'country' },
    })) as { objectId: string };
    await run('load-step', loadStepWorkflow, {
      tenantId,
      destination: { placement: 'connector', connectorId: c2.id, database: 'dw' },
      table: { name: 'country' },
      keyColumns: ['country_id'],
      objectId: extracted.objectId,
    });
    await run('data-transfer', dataTransferWorkflow, {
      tenantId,
      connectorId: c2.id,
      transfer: {
        source: { database: 'sakila', table: { name: 'city' } },
        destination: { database: 'dw', table: { name: 'city' } },
        mode: 'append',
      },
    });
    await run('buffer-purge', bufferPurgeWorkflow, { cloudTaskQueue: platform.cloudTaskQueue });
    await dw.drop();
  } finally {
    await platform.close();
  }
}

void main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
