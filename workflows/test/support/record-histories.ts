/**
 * Records one history of each published workflow into workflows/test/histories/, for the replay
 * test. Run it after changing a workflow on purpose (with `./vsc services` up):
 *   node --import tsx workflows/test/support/record-histories.ts
 * A change that breaks replay of an old history must not ship without versioning (patched()).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { startPlatform, sakilaDatabase, sakilaReader } from '../../../gateway/test/support/harness';

async function main(): Promise<void> {
  const platform = await startPlatform();
  const out = join(__dirname, '..', 'histories');
  const save = async (name: string, workflowId: string) => {
    const history = await platform.temporal.workflow.getHandle(workflowId).fetchHistory();
    writeFileSync(join(out, `${name}.json`), `${historyToJSON(history)}\n`);
    process.stdout.write(`recorded ${name} (${history.events?.length} events)\n`);
  };
  try {
    const tenantId = `rec-${randomBytes(3).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Recorder' });
    const c = (await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name: 'site' })).body;
    const reader = await sakilaReader();
    const agent = platform.startAgent({ apiKey: c.apiKey, databases: { sakila: sakilaDatabase(reader) } });
    await agent.welcomed;

    const ok = await platform.api<{ workflowId: string }>('POST', `/v1/tenants/${tenantId}/queries`, { connectorId: c.id, database: 'sakila', sql: 'SELECT film_id, title FROM film ORDER BY film_id LIMIT 3' });
    await save('agent-query-ok', ok.body.workflowId);
    const failed = await platform.api<{ error: { workflowId: string } }>('POST', `/v1/tenants/${tenantId}/queries`, { connectorId: c.id, database: 'sakila', sql: 'SELECT nope FROM film' });
    await save('agent-query-sql-error', failed.body.error.workflowId);
    const offline = await platform.api<{ error: { workflowId: string } }>('POST', `/v1/tenants/${tenantId}/queries`, {
      connectorId: (await platform.api<{ id: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name: 'offline' })).body.id,
      database: 'sakila',
      sql: 'SELECT 1',
      maxOfflineSeconds: 1,
    });
    await save('agent-query-connector-offline', offline.body.error.workflowId);
    const discovered = await platform.api<{ workflowId: string }>('POST', `/v1/tenants/${tenantId}/connectors/${c.id}/schemas/sakila/discover`);
    await save('schema-discovery', discovered.body.workflowId);
    const pingId = `ping-${randomBytes(4).toString('hex')}`;
    await platform.temporal.workflow.execute('pingWorkflow', {
      taskQueue: platform.workflowTaskQueue,
      workflowId: pingId,
      args: [{ placement: { kind: 'connector', connectorId: c.id }, count: 4, concurrency: 2 }],
    });
    await save('ping-agent', pingId);
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
