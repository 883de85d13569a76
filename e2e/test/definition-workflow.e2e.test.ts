import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { Client } from 'pg';
import { SearchAttribute } from '@vansales/temporal-config';
import { throwawayPostgresDatabase } from '@vansales/test-kit';
import { openDataConnection, tableChecksum, type DataConnection } from '@vansales/dataflow';
import {
  DefinitionDocument,
  type DefinitionDocumentInput,
  type DefinitionRunStatus,
  type DefinitionStore,
  type DefinitionVersion,
  type StepOutput,
} from '@vansales/definitions';
import {
  approvalSignal,
  controlSignal,
  type definitionWorkflow,
  exampleSiteToCloudWorkflow,
  runStatusQuery,
  type DefinitionWorkflowInput,
} from '@vansales/workflows';
import {
  failureText,
  mariaConfig,
  pgConfig,
  sakilaDatabase,
  sakilaReader,
  startPlatform,
  until,
  type Platform,
} from './support/harness';
import { saveHistory } from './support/history-recorder';
import { scheduledActivities, startDefinitionDirect } from './support/definition-direct';

/** Definition runs of every pattern the interpreter walks, on real Temporal, agent, buffer and databases. */
const record = process.env.VSC_RECORD_HISTORIES === '1';

class MemoryStore implements DefinitionStore {
  readonly versions: DefinitionVersion[] = [];
  async published(tenantId: string, definitionId: string) {
    return this.versions
      .filter((v) => v.tenantId === tenantId && v.definitionId === definitionId && v.publishedAt)
      .at(-1);
  }
  async version(tenantId: string, definitionId: string, version: number) {
    return this.versions.find(
      (v) => v.tenantId === tenantId && v.definitionId === definitionId && v.version === version,
    );
  }
}

describe('definitionWorkflow: the interpreter on real services', () => {
  let platform: Platform;
  let tenantId: string;
  let otherTenant: string;
  let siteId: string;
  let dw: { name: string; url: string; drop: () => Promise<void> };
  let siteDw: { name: string; url: string; drop: () => Promise<void> };
  let warehouse: DataConnection;
  let sakila: DataConnection;
  const store = new MemoryStore();

  beforeAll(async () => {
    platform = await startPlatform({ definitions: store });
    tenantId = `def-${randomBytes(3).toString('hex')}`;
    otherTenant = `oth-${randomBytes(3).toString('hex')}`;
    for (const id of [tenantId, otherTenant]) await platform.api('POST', '/v1/tenants', { id, name: id });
    dw = await throwawayPostgresDatabase('vsc_defdw');
    siteDw = await throwawayPostgresDatabase('vsc_defsite');
    // The cloud reaches a warehouse (PostgreSQL) and, as a cloud source, Sakila on MariaDB.
    const cloudDbs = { dw: pgConfig(dw.url, dw.name), sakila: mariaConfig('sakila') };
    platform.setCloudDatabases({ [tenantId]: cloudDbs, [otherTenant]: cloudDbs });
    warehouse = await openDataConnection(pgConfig(dw.url, dw.name));
    sakila = await openDataConnection(mariaConfig('sakila'));
    const c = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name: 'site' })
    ).body;
    siteId = c.id;
    const policyFile = join(mkdtempSync(join(tmpdir(), 'vsc-def-')), 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ writableTables: [{ database: 'local', table: '*' }] }));
    const agent = platform.startAgent({
      apiKey: c.apiKey,
      databases: { sakila: sakilaDatabase(await sakilaReader()), local: pgConfig(siteDw.url, siteDw.name) },
      policyFile,
    });
    await agent.welcomed;
  }, 120_000);

  afterAll(async () => {
    await warehouse?.close();
    await sakila?.close();
    await platform?.close();
    await dw?.drop();
    await siteDw?.drop();
  });

  const doc = (d: Omit<DefinitionDocumentInput, 'format'>) =>
    DefinitionDocument.parse({ format: 'vansales.definition/v1', ...d });

  const start = async (
    definitionId: string,
    document: DefinitionDocument,
    more: Partial<DefinitionWorkflowInput> = {},
  ): Promise<WorkflowHandleWithFirstExecutionRunId<typeof definitionWorkflow>> => {
    return startDefinitionDirect(platform, tenantId, definitionId, document, more);
  };

  const activities = (handle: WorkflowHandle, runId?: string) => scheduledActivities(platform, handle, runId);

  const save = async (name: string, handle: WorkflowHandle, runId?: string) => {
    if (record) await saveHistory(platform, name, handle.workflowId, runId);
  };

  const count = (table: string) => warehouse.countRows({ name: table });
  const sql = async (text: string) => {
    const client = new Client({ connectionString: dw.url });
    await client.connect();
    try {
      return (await client.query(text)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };

  const siteToCloud = (table: string, keys: string[], into = table) =>
    doc({
      name: `${table} to the warehouse`,
      steps: [
        {
          id: 'extract',
          kind: 'source',
          db: { endpoint: { kind: 'site-db', connectorId: siteId, database: 'sakila' }, table: { name: table } },
        },
        {
          id: 'load',
          kind: 'destination',
          db: {
            endpoint: { kind: 'cloud-db', database: 'dw' },
            table: { name: into },
            keyColumns: keys,
            createIfMissing: true,
          },
        },
      ],
      edges: [{ from: 'extract', to: 'load' }],
    });

  it('copies a site table into a cloud database (site -> buffer -> cloud): counts and checksums match', async () => {
    const handle = await start('film-copy', siteToCloud('film', ['film_id']));
    const result = await handle.result();
    expect(result.state).toBe('completed');
    expect(result.steps.extract).toMatchObject({
      state: 'completed',
      placement: { kind: 'site', connectorId: siteId },
    });
    expect(result.steps.extract!.route).toContain('site -> buffer -> cloud');
    expect(result.steps.load).toMatchObject({ state: 'completed', placement: { kind: 'cloud' }, attempts: 1 });
    expect(result.steps.extract!.output!.dataset!.rows).toBe(1000);
    // Only the reference passed between the steps: the dataset names its object and rows, no row.
    expect(Object.keys(result.steps.extract!.output!)).toEqual(['dataset']);
    const described = (await sakila.describeTable({ name: 'film' }))!;
    const source = await tableChecksum(sakila, { name: 'film' }, described.columns, ['film_id']);
    const copied = await tableChecksum(
      warehouse,
      { name: 'film' },
      (await warehouse.describeTable({ name: 'film' }))!.columns.filter((c) =>
        described.columns.some((s) => s.name === c.name),
      ),
      ['film_id'],
    );
    expect(copied).toEqual(source);
    // The Web UI lists runs by definition, version and connector.
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(SearchAttribute.DefinitionId)).toBe('film-copy');
    expect(description.typedSearchAttributes.get(SearchAttribute.DefinitionVersion)).toBe(1);
    expect(description.typedSearchAttributes.get(SearchAttribute.ConnectorIds)).toEqual([siteId]);
    await save('definition-linear', handle);
  });

  it('runs a site-db -> site-db pair on one connector as ONE transfer on the site', async () => {
    const handle = await start(
      'same-site',
      doc({
        name: 'actors on the site',
        steps: [
          {
            id: 'read',
            kind: 'source',
            db: { endpoint: { kind: 'site-db', connectorId: siteId, database: 'sakila' }, table: { name: 'actor' } },
          },
          {
            id: 'write',
            kind: 'destination',
            db: {
              endpoint: { kind: 'site-db', connectorId: siteId, database: 'local' },
              table: { name: 'actor' },
              keyColumns: ['actor_id'],
              createIfMissing: true,
            },
          },
        ],
        edges: [{ from: 'read', to: 'write' }],
      }),
    );
    const result = await handle.result();
    expect(result.steps.read).toMatchObject({
      state: 'completed',
      placement: { kind: 'site-transfer', connectorId: siteId },
    });
    expect(result.steps.write!.route).toContain('nothing crosses the socket');
    expect(await activities(handle)).toEqual(['dataTransfer']);
    expect(result.steps.write!.output!.value).toMatchObject({ rowCount: 200 });
  });

  const branchDoc = () =>
    doc({
      name: 'branch',
      steps: [
        {
          id: 'src',
          kind: 'source',
          db: { endpoint: { kind: 'cloud-db', database: 'sakila' }, table: { name: 'language' } },
        },
        { id: 'check', kind: 'branch', condition: 'input.big = true and steps.src.rows > 3' },
        {
          id: 'big',
          kind: 'destination',
          db: {
            endpoint: { kind: 'cloud-db', database: 'dw' },
            table: { name: 'lang_big' },
            keyColumns: ['language_id'],
            createIfMissing: true,
          },
        },
        {
          id: 'small',
          kind: 'destination',
          db: {
            endpoint: { kind: 'cloud-db', database: 'dw' },
            table: { name: 'lang_small' },
            keyColumns: ['language_id'],
            createIfMissing: true,
          },
        },
        { id: 'after-big', kind: 'parallel' },
      ],
      edges: [
        { from: 'src', to: 'check' },
        { from: 'check', to: 'big', when: 'then' },
        { from: 'check', to: 'small', when: 'else' },
        { from: 'big', to: 'after-big' },
      ],
    });

  it('takes a branch either way; the untaken side is skipped, and the skip travels on', async () => {
    const yes = await start('branch', branchDoc(), { input: { big: true } });
    const a = await yes.result();
    expect(a.steps.check!.output!.value).toEqual({ condition: true });
    expect([a.steps.big!.state, a.steps.small!.state, a.steps['after-big']!.state]).toEqual([
      'completed',
      'skipped',
      'completed',
    ]);
    const no = await start('branch', branchDoc(), { input: { big: false } });
    const b = await no.result();
    expect([b.steps.big!.state, b.steps.small!.state, b.steps['after-big']!.state]).toEqual([
      'skipped',
      'completed',
      'skipped',
    ]);
    expect(await count('lang_small')).toBe(6);
    await save('definition-branch', no);
  });

  it('fans out in parallel and merges (deduplicated by key) before one load', async () => {
    const handle = await start(
      'fan',
      doc({
        name: 'fan out and in',
        steps: [
          {
            id: 'cats',
            kind: 'source',
            db: {
              endpoint: { kind: 'cloud-db', database: 'sakila' },
              table: { name: 'category' },
              columns: ['category_id', 'name'],
            },
          },
          { id: 'split', kind: 'parallel' },
          {
            id: 'copy-a',
            kind: 'source',
            db: {
              endpoint: { kind: 'cloud-db', database: 'sakila' },
              table: { name: 'category' },
              columns: ['category_id', 'name'],
            },
          },
          { id: 'all', kind: 'merge', dedupeKey: ['category_id'] },
          {
            id: 'load',
            kind: 'destination',
            db: {
              endpoint: { kind: 'cloud-db', database: 'dw' },
              table: { name: 'cats' },
              keyColumns: ['category_id'],
              createIfMissing: true,
            },
          },
          {
            id: 'side',
            kind: 'destination',
            db: {
              endpoint: { kind: 'cloud-db', database: 'dw' },
              table: { name: 'cats_side' },
              keyColumns: ['category_id'],
              createIfMissing: true,
            },
          },
        ],
        edges: [
          { from: 'cats', to: 'split' },
          { from: 'split', to: 'all' },
          { from: 'split', to: 'side' },
          { from: 'copy-a', to: 'all' },
          { from: 'all', to: 'load' },
        ],
      }),
    );
    const result = await handle.result();
    expect(result.state).toBe('completed');
    // 16 + 16 rows merged, 16 distinct keys.
    expect(result.steps.all!.output!.dataset!.rows).toBe(16);
    expect(await count('cats')).toBe(16);
    expect(await count('cats_side')).toBe(16);
    await save('definition-parallel-merge', handle);
  });

  it('runs a for-each body per batch, and continues as new in a long loop carrying what is done', async () => {
    // Not made first: two parts loading at once both find it missing, and one creates it for both.
    const handle = await start(
      'batches',
      doc({
        name: 'for each batch',
        steps: [
          {
            id: 'actors',
            kind: 'source',
            db: { endpoint: { kind: 'cloud-db', database: 'sakila' }, table: { name: 'actor' } },
          },
          {
            id: 'each',
            kind: 'for-each',
            over: 'batches',
            batchSize: 25,
            concurrency: 2,
            body: {
              steps: [
                {
                  id: 'load',
                  kind: 'destination',
                  db: {
                    endpoint: { kind: 'cloud-db', database: 'dw' },
                    table: { name: 'actor_batches' },
                    keyColumns: ['actor_id'],
                    createIfMissing: true,
                  },
                },
              ],
              edges: [],
            },
          },
        ],
        edges: [{ from: 'actors', to: 'each' }],
      }),
      { historyEventsLimit: 40 },
    );
    const firstRunId = handle.firstExecutionRunId;
    const result = await handle.result();
    expect(result.state).toBe('completed');
    expect(result.steps.each!.output!.value).toEqual({ parts: 8, rows: 200 });
    expect(await count('actor_batches')).toBe(200);
    const first = await platform.temporal.workflow.getHandle(handle.workflowId, firstRunId).fetchHistory();
    expect(first.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    // Each part loaded once across the executions, the extract and the split never again.
    const all = [...(await activities(handle, firstRunId))];
    const latest = await activities(handle);
    expect(latest).not.toContain('cloudExtract');
    expect(latest).not.toContain('splitDataset');
    expect(all.filter((a) => a === 'cloudExtract')).toHaveLength(1);
    await save('definition-for-each', handle, firstRunId);
  });

  it('waits for a duration, then goes on', async () => {
    const handle = await start(
      'wait',
      doc({
        name: 'wait',
        steps: [
          { id: 'nap', kind: 'wait', duration: '1s' },
          { id: 'then', kind: 'parallel' },
        ],
        edges: [{ from: 'nap', to: 'then' }],
      }),
    );
    const result = await handle.result();
    expect([result.steps.nap!.state, result.steps.then!.state]).toEqual(['completed', 'completed']);
    await save('definition-wait', handle);
  });

  const approvalDoc = (timeout?: string, onTimeout?: 'fail' | 'continue') =>
    doc({
      name: 'approval',
      steps: [
        { id: 'gate', kind: 'wait-for-signal', ...(timeout ? { timeout } : {}), ...(onTimeout ? { onTimeout } : {}) },
        { id: 'after', kind: 'parallel' },
      ],
      edges: [{ from: 'gate', to: 'after' }],
    });

  it('waits for an approval signal; a timeout fails the run or goes on, as the step says', async () => {
    const handle = await start('approve', approvalDoc());
    await until('the gate to wait', async () => (await handle.query(runStatusQuery)).steps.gate?.state === 'waiting');
    await handle.signal(approvalSignal, { stepId: 'gate', approved: true, by: 'ops@example.com' });
    const result = await handle.result();
    expect(result.steps.gate!.output!.value).toEqual({ approved: true, by: 'ops@example.com' });
    await save('definition-approval', handle);

    const timedOut = await start('approve', approvalDoc('1s', 'fail'));
    const err = await timedOut.result().catch((e: unknown) => e);
    expect(failureText(err)).toContain('DefinitionNotApproved');
    expect((await timedOut.query(runStatusQuery)).steps.gate!.state).toBe('failed');
    const goesOn = await (await start('approve', approvalDoc('1s', 'continue'))).result();
    expect(goesOn.steps.gate!.output!.value).toEqual({ approved: false, timedOut: true });
    expect(goesOn.steps.after!.state).toBe('completed');
  });

  it('calls another definition as a child run (its document read from the definition store)', async () => {
    store.versions.push({
      tenantId,
      definitionId: 'child-copy',
      version: 3,
      hash: 'c',
      document: doc({
        name: 'child',
        steps: [
          {
            id: 'src',
            kind: 'source',
            db: { endpoint: { kind: 'cloud-db', database: 'sakila' }, table: { name: 'country' } },
          },
          {
            id: 'dst',
            kind: 'destination',
            db: {
              endpoint: { kind: 'cloud-db', database: 'dw' },
              table: { name: 'country' },
              keyColumns: ['country_id'],
              createIfMissing: true,
            },
          },
        ],
        edges: [{ from: 'src', to: 'dst' }],
      }),
      createdAt: new Date().toISOString(),
      publishedAt: new Date().toISOString(),
    });
    const handle = await start(
      'parent',
      doc({ name: 'parent', steps: [{ id: 'child', kind: 'call', definitionId: 'child-copy' }], edges: [] }),
    );
    const result = await handle.result();
    expect(result.steps.child!.output!.value).toMatchObject({ version: 3, state: 'completed' });
    expect(await count('country')).toBe(109);
    await save('definition-call', handle);
    // Another tenant's definition is not found.
    const other = await start(
      'parent',
      doc({ name: 'parent', steps: [{ id: 'child', kind: 'call', definitionId: 'child-copy' }], edges: [] }),
      {
        tenantId: otherTenant,
      },
    );
    expect(failureText(await other.result().catch((e: unknown) => e))).toContain('DefinitionNotFound');
  });

  const failing = {
    kind: 'destination' as const,
    db: {
      endpoint: { kind: 'cloud-db' as const, database: 'nowhere' },
      table: { name: 't' },
      keyColumns: ['language_id'],
    },
  };

  it('goes on along the error edge of a step that fails with continueOnError', async () => {
    const handle = await start(
      'on-error',
      doc({
        name: 'continue on error',
        steps: [
          {
            id: 'src',
            kind: 'source',
            db: { endpoint: { kind: 'cloud-db', database: 'sakila' }, table: { name: 'language' } },
          },
          { id: 'bad', ...failing, onError: { continueOnError: true, retry: { maximumAttempts: 1 } } },
          { id: 'ok-path', kind: 'parallel' },
          {
            id: 'fallback',
            kind: 'destination',
            db: {
              endpoint: { kind: 'cloud-db', database: 'dw' },
              table: { name: 'lang_fallback' },
              keyColumns: ['language_id'],
              createIfMissing: true,
            },
          },
        ],
        edges: [
          { from: 'src', to: 'bad' },
          { from: 'bad', to: 'ok-path' },
          { from: 'src', to: 'fallback' },
          { from: 'bad', to: 'fallback', when: 'error' },
        ],
      }),
    );
    const result = await handle.result();
    expect(result.state).toBe('completed');
    expect(result.steps.bad!.state).toBe('failed');
    expect(result.steps.bad!.error).toContain('nowhere');
    expect(result.steps['ok-path']!.state).toBe('skipped');
    expect(result.steps.fallback!.state).toBe('completed');
    expect(await count('lang_fallback')).toBe(6);
    await save('definition-error-edge', handle);
  });

  it('compensates completed steps in reverse order when a later step fails the run', async () => {
    const handle = await start(
      'saga',
      doc({
        name: 'saga',
        steps: [
          {
            id: 'src',
            kind: 'source',
            db: { endpoint: { kind: 'cloud-db', database: 'sakila' }, table: { name: 'language' } },
          },
          {
            id: 'reserve',
            kind: 'destination',
            db: {
              endpoint: { kind: 'cloud-db', database: 'dw' },
              table: { name: 'lang_reserved' },
              keyColumns: ['language_id'],
              createIfMissing: true,
            },
            onError: { continueOnError: false, compensate: 'undo' },
          },
          {
            id: 'undo',
            kind: 'destination',
            db: {
              endpoint: { kind: 'cloud-db', database: 'dw' },
              table: { name: 'lang_undone' },
              keyColumns: ['language_id'],
              createIfMissing: true,
            },
          },
          { id: 'bad', ...failing, onError: { continueOnError: false, retry: { maximumAttempts: 1 } } },
        ],
        edges: [
          { from: 'src', to: 'reserve' },
          { from: 'reserve', to: 'bad' },
        ],
      }),
    );
    const err = await handle.result().catch((e: unknown) => e);
    expect(failureText(err)).toContain('DefinitionStepFailed');
    const status = await handle.query(runStatusQuery);
    expect(status.state).toBe('failed');
    expect(status.steps.reserve!.state).toBe('compensated');
    expect(status.steps.undo!.state).toBe('completed');
    expect(await count('lang_undone')).toBe(6);
    await save('definition-compensation', handle);
  });

  it('pauses at the next step boundary, resumes, and stops on control signals', async () => {
    const handle = await start('control', approvalDoc());
    await until('the gate to wait', async () => (await handle.query(runStatusQuery)).steps.gate?.state === 'waiting');
    await handle.signal(controlSignal, { action: 'pause', scope: 'tenant', by: 'ops' });
    await handle.signal(approvalSignal, { stepId: 'gate', approved: true, by: 'ops' });
    const paused = await until('the gate to complete while paused', async () => {
      const s: DefinitionRunStatus = await handle.query(runStatusQuery);
      return s.steps.gate?.state === 'completed' ? s : undefined;
    });
    expect(paused.state).toBe('paused');
    expect(paused.steps.after).toBeUndefined();
    await handle.signal(controlSignal, { action: 'resume', scope: 'tenant', by: 'ops' });
    expect((await handle.result()).steps.after!.state).toBe('completed');
    await save('definition-pause-resume', handle);

    const stopped = await start('control', approvalDoc());
    await until('the gate to wait', async () => (await stopped.query(runStatusQuery)).steps.gate?.state === 'waiting');
    await stopped.signal(controlSignal, { action: 'stop', scope: 'definition', by: 'ops' });
    const result = await stopped.result();
    expect(result.state).toBe('stopped');
    expect(result.steps.after).toBeUndefined();
    await save('definition-stop', stopped);
  });

  it('retries from a step: reused outputs are not run again (counted in history)', async () => {
    const first = await start('film-copy', siteToCloud('actor', ['actor_id'], 'actor_reuse'));
    const done = await first.result();
    expect(await activities(first)).toEqual(['dataExtract', 'cloudLoad']);
    await sql('DELETE FROM actor_reuse');
    const reuse: Record<string, StepOutput> = { extract: done.steps.extract!.output! };
    const retried = await start('film-copy', siteToCloud('actor', ['actor_id'], 'actor_reuse'), {
      reuse,
      trigger: { kind: 'retry' },
    });
    const result = await retried.result();
    expect(await activities(retried)).toEqual(['cloudLoad']);
    expect(result.steps.extract!.route).toContain('reused');
    expect(await count('actor_reuse')).toBe(200);
    await save('definition-reuse', retried);
  });

  it("refuses another tenant's dataset in a cloud step (the tenant is re-checked, not trusted)", async () => {
    const mine = await (await start('film-copy', siteToCloud('language', ['language_id'], 'lang_mine'))).result();
    const stolen = mine.steps.extract!.output!.dataset!;
    const handle = await start(
      'steal',
      doc({
        name: 'steal',
        steps: [
          {
            id: 'src',
            kind: 'source',
            db: { endpoint: { kind: 'cloud-db', database: 'sakila' }, table: { name: 'language' } },
          },
          { id: 'join', kind: 'merge', dedupeKey: ['language_id'] },
          {
            id: 'load',
            kind: 'destination',
            db: {
              endpoint: { kind: 'cloud-db', database: 'dw' },
              table: { name: 'lang_stolen' },
              keyColumns: ['language_id'],
              createIfMissing: true,
            },
          },
        ],
        edges: [
          { from: 'src', to: 'join' },
          { from: 'join', to: 'load' },
        ],
      }),
      { tenantId: otherTenant, reuse: { src: { dataset: stolen } } },
    );
    const err = await handle.result().catch((e: unknown) => e);
    expect(failureText(err)).toContain('DefinitionDatasetRefused');
    expect(await sql("SELECT to_regclass('lang_stolen') AS t")).toEqual([{ t: null }]);
  });

  it('refuses a step value over 64 KB (data moves as datasets only)', async () => {
    const handle = await start(
      'big-value',
      doc({ name: 'big', steps: [{ id: 'check', kind: 'branch', condition: 'true' }], edges: [] }),
      { input: { blob: 'x'.repeat(70_000) } },
    );
    expect(failureText(await handle.result().catch((e: unknown) => e))).toContain('DefinitionValueTooLarge');
  });

  it('runs the code-first example: plain Temporal workflow with site() and cloud() helpers', async () => {
    const handle = await platform.temporal.workflow.start(exampleSiteToCloudWorkflow, {
      taskQueue: platform.workflowTaskQueue,
      workflowId: `example-${randomBytes(4).toString('hex')}`,
      args: [
        {
          tenantId,
          connectorId: siteId,
          siteDatabase: 'sakila',
          table: { name: 'city' },
          cloudDatabase: 'dw',
          keyColumns: ['city_id'],
          cloudTaskQueue: platform.cloudTaskQueue,
        },
      ],
    });
    expect(await handle.result()).toEqual({ rows: 600 });
    expect(await count('city')).toBe(600);
    await save('example-site-to-cloud', handle);
  });
});
