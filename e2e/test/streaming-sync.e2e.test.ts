import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import type { WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type { FastifyRequest, RouteOptions } from 'fastify';
import {
  encodeChunk,
  openDataConnection,
  tableChecksum,
  type ColumnSpec,
  type DataConnection,
  type DataConnectionConfig,
} from '@vansales/dataflow';
import { throwawayPostgresDatabase } from '@vansales/test-kit';
import { dataSyncWorkflow, loadStepWorkflow, type DataSyncInput } from '@vansales/workflows';
import {
  failureText,
  mariaConfig,
  pgConfig,
  sakilaReader,
  services,
  startPlatform,
  until,
  type Platform,
} from './support/harness';
import { saveHistory } from './support/history-recorder';

/** What the gateway saw when an extract asked to commit its object. */
interface CommitSeen {
  objectId: string;
  /** Rows the following load had written into the destination before the commit was let through. */
  destinationRows: number;
  /** Whether the object had a manifest at that moment (it must not: the commit writes it). */
  manifestExisted: boolean;
}

/**
 * dataSyncWorkflow site -> cloud with the extract and the load overlapping: the cloud load follows
 * the buffer object while the agent's extract still writes it. The gateway holds each extract's
 * commit until the destination shows rows (or a deadline passes), and records what it saw: a load
 * that only starts after the commit leaves the destination empty at that point.
 */
describe('site -> cloud sync streams through the buffer (extract and load overlap)', () => {
  let platform: Platform;
  let tenantId: string;
  let destination: DataConnection | undefined;
  let watchedTable = 'rental';
  let holdCloudCommits = false;
  const policyDir = mkdtempSync(join(tmpdir(), 'vsc-stream-policy-'));
  const commits: CommitSeen[] = [];
  const drops: (() => Promise<void>)[] = [];

  const rowsIn = async (table: string) => {
    if (!destination || !(await destination.describeTable({ name: table }))) return 0;
    const described = (await destination.describeTable({ name: table }))!;
    return (await tableChecksum(destination, { name: table }, described.columns, described.primaryKey)).rows;
  };
  const holdCommit = (req: FastifyRequest) => holdCommitOf((req.params as { objectId: string }).objectId);
  const holdCommitOf = async (objectId: string) => {
    // Held until the load wrote rows (a count of 0 keeps waiting); a load that has not started by the
    // deadline leaves 0 here. No wait when the test expects no rows at all.
    const destinationRows = watchedTable
      ? await until(
          'the load to write rows before the commit',
          async () => (await rowsIn(watchedTable)) || undefined,
          60_000,
        ).catch(() => 0)
      : 0;
    const manifestExisted = await platform.gateway.buffer.readManifest(tenantId, objectId).then(
      () => true,
      () => false,
    );
    commits.push({ objectId, destinationRows, manifestExisted });
  };
  const run = <W extends Workflow>(
    workflow: W,
    input: Parameters<W>[0],
    workflowId = `stream-${randomBytes(4).toString('hex')}`,
  ) =>
    platform.temporal.workflow.execute(workflow, {
      taskQueue: platform.workflowTaskQueue,
      workflowId,
      args: [input],
    } as unknown as WorkflowStartOptions<W>);

  beforeAll(async () => {
    platform = await startPlatform({
      onRoute: (route: RouteOptions) => {
        if (route.method !== 'POST' || !route.url.endsWith('/:objectId/commit')) return;
        const before = route.preHandler ? [route.preHandler].flat() : [];
        route.preHandler = [...before, holdCommit] as RouteOptions['preHandler'];
      },
    });
    tenantId = `st${randomBytes(3).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Streaming' });
    // A cloud extract writes the buffer directly (not through the gateway's routes): its commit is
    // held in the buffer itself, the same way, while a test asks for it.
    const buffer = platform.gateway.buffer;
    const commit = buffer.commit.bind(buffer);
    buffer.commit = async (tenant, objectId, body) => {
      if (holdCloudCommits && tenant === tenantId) await holdCommitOf(objectId);
      return commit(tenant, objectId, body);
    };
  });
  afterAll(async () => {
    await destination?.close();
    await platform?.close();
    for (const drop of drops) await drop();
    rmSync(policyDir, { recursive: true, force: true });
  });

  const siteAgent = async (
    databases: Record<string, DataConnectionConfig> = {
      sakila: { dialect: 'mysql', ...services.mariadb, database: 'sakila' },
    },
  ) => {
    const site = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, {
        name: `site-${randomBytes(3).toString('hex')}`,
      })
    ).body;
    const reader = await sakilaReader();
    const policyFile = join(policyDir, `${site.id}.json`);
    writeFileSync(policyFile, JSON.stringify({ writableTables: [{ database: 'mart', table: '*' }] }));
    const agent = platform.startAgent({
      apiKey: site.apiKey,
      databases: Object.fromEntries(
        Object.entries(databases).map(([name, config]) => [
          name,
          name === 'sakila' ? { ...config, ...reader } : config,
        ]),
      ),
      policyFile,
    });
    await agent.welcomed;
    return site.id;
  };
  /** A fresh site MariaDB database (`mart` on the agent), which the test watches as the destination. */
  const mart = async () => {
    const name = `vsc_mart_${randomBytes(4).toString('hex')}`;
    const conn = await createConnection(services.mariadb);
    await conn.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
    await conn.end();
    drops.push(async () => {
      const c = await createConnection(services.mariadb);
      await c.query(`DROP DATABASE IF EXISTS ${name}`);
      await c.end();
    });
    await destination?.close();
    destination = await openDataConnection(mariaConfig(name));
    return mariaConfig(name);
  };
  const pagila = () => pgConfig(services.postgresUrl('pagila'), 'pagila');
  const warehouse = async () => {
    const pg = await throwawayPostgresDatabase('vsc_stream');
    drops.push(pg.drop);
    await destination?.close();
    destination = await openDataConnection(pgConfig(pg.url, pg.name));
    platform.setCloudDatabases({ [tenantId]: { dw: pgConfig(pg.url, pg.name) } });
  };

  it('loads chunks while the extract is still writing, and the data arrives equal by checksum', async () => {
    const connectorId = await siteAgent();
    await warehouse();
    watchedTable = 'rental';
    const workflowId = `stream-${randomBytes(4).toString('hex')}`;
    const state = await run(
      dataSyncWorkflow,
      {
        tenantId,
        source: { placement: 'connector', connectorId, database: 'sakila' },
        destination: { placement: 'cloud', database: 'dw' },
        tables: [{ source: { name: 'rental' } }],
        chunkRows: 2000,
        cloudTaskQueue: platform.cloudTaskQueue,
      } satisfies DataSyncInput,
      workflowId,
    );
    expect(state.tables.rental!.rowsCopied).toBe(16044);
    // VSC_RECORD_HISTORIES=1 keeps this run as the replay test's history of the overlapping sync.
    if (process.env.VSC_RECORD_HISTORIES === '1')
      await saveHistory(platform, 'data-sync-site-to-cloud-overlap', workflowId);

    // The commit is the extract's last step: the load had already written rows, and no manifest existed.
    expect(commits).toHaveLength(1);
    expect(commits[0]!.manifestExisted).toBe(false);
    expect(commits[0]!.destinationRows).toBeGreaterThanOrEqual(2000);

    const source = await openDataConnection(mariaConfig('sakila'));
    try {
      const described = (await source.describeTable({ name: 'rental' }))!;
      const columns = (await destination!.describeTable({ name: 'rental' }))!.columns;
      expect(await tableChecksum(destination!, { name: 'rental' }, columns, described.primaryKey)).toEqual(
        await tableChecksum(
          source,
          { name: 'rental' },
          described.columns.filter((c) => columns.some((d) => d.name === c.name)),
          described.primaryKey,
        ),
      );
    } finally {
      await source.close();
    }
  });

  it('a failed load does not lose the extract: its object is committed, and the run fails with the load error', async () => {
    const connectorId = await siteAgent();
    await warehouse();
    watchedTable = '';
    commits.length = 0;
    const err = await run(dataSyncWorkflow, {
      tenantId,
      source: { placement: 'connector', connectorId, database: 'sakila' },
      // No such cloud database: the load fails at once, without retries.
      destination: { placement: 'cloud', database: 'nowhere' },
      tables: [{ source: { name: 'payment' } }],
      chunkRows: 4000,
      cloudTaskQueue: platform.cloudTaskQueue,
    } satisfies DataSyncInput).catch((e: unknown) => e);
    expect(failureText(err)).toMatch(/no cloud database named nowhere/);
    expect(commits).toHaveLength(1);
    const manifest = await platform.gateway.buffer.readManifest(tenantId, commits[0]!.objectId);
    expect(manifest.rowCount).toBe(16049);
  });

  /** A sync whose extract fails: the run fails with the extract's error, and its following load was cancelled. */
  const expectExtractFailureCancelsLoad = async (input: DataSyncInput) => {
    const handle = await platform.temporal.workflow.start(dataSyncWorkflow, {
      taskQueue: platform.workflowTaskQueue,
      workflowId: `stream-missing-${randomBytes(4).toString('hex')}`,
      args: [input],
    });
    const err = await handle.result().catch((e: unknown) => e);
    expect(failureText(err)).toMatch(/no_such_table.*does not exist/);
    const { events } = await handle.fetchHistory();
    expect(events?.some((e) => e.activityTaskCancelRequestedEventAttributes)).toBe(true);
  };

  it('a failed extract cancels its following load instead of leaving it waiting for the object', async () => {
    const connectorId = await siteAgent();
    await warehouse();
    await expectExtractFailureCancelsLoad({
      tenantId,
      source: { placement: 'connector', connectorId, database: 'sakila' },
      destination: { placement: 'cloud', database: 'dw' },
      tables: [{ source: { name: 'no_such_table' } }],
      cloudTaskQueue: platform.cloudTaskQueue,
    });
  });

  describe('cloud -> site (the agent loads through the gateway while the cloud extract writes)', () => {
    beforeAll(() => {
      holdCloudCommits = true;
    });
    afterAll(() => {
      holdCloudCommits = false;
    });

    it('loads chunks into the site database before the extract commits, and the data arrives equal by checksum', async () => {
      const connectorId = await siteAgent({ mart: await mart() });
      platform.setCloudDatabases({ [tenantId]: { pagila: pagila() } });
      watchedTable = 'rental';
      commits.length = 0;
      const workflowId = `stream-c2s-${randomBytes(4).toString('hex')}`;
      const state = await run(
        dataSyncWorkflow,
        {
          tenantId,
          source: { placement: 'cloud', database: 'pagila' },
          destination: { placement: 'connector', connectorId, database: 'mart' },
          tables: [{ source: { schema: 'public', name: 'rental' }, destination: { name: 'rental' } }],
          chunkRows: 2000,
          cloudTaskQueue: platform.cloudTaskQueue,
        } satisfies DataSyncInput,
        workflowId,
      );
      expect(state.tables['public.rental']!.rowsCopied).toBe(16044);
      if (process.env.VSC_RECORD_HISTORIES === '1')
        await saveHistory(platform, 'data-sync-cloud-to-site-overlap', workflowId);

      // Observed in the buffer: when the extract asked to commit, the agent's load had written rows already.
      expect(commits).toHaveLength(1);
      expect(commits[0]!.manifestExisted).toBe(false);
      expect(commits[0]!.destinationRows).toBeGreaterThanOrEqual(2000);

      const source = await openDataConnection(pagila());
      try {
        const described = (await source.describeTable({ schema: 'public', name: 'rental' }))!;
        const there = (await destination!.describeTable({ name: 'rental' }))!;
        expect(await tableChecksum(destination!, { name: 'rental' }, there.columns, described.primaryKey)).toEqual(
          await tableChecksum(source, { schema: 'public', name: 'rental' }, described.columns, described.primaryKey),
        );
      } finally {
        await source.close();
      }
    });

    it('a failed site load does not lose the cloud extract: its object is committed, and the run fails with the load error', async () => {
      const connectorId = await siteAgent({ mart: await mart() });
      platform.setCloudDatabases({ [tenantId]: { pagila: pagila() } });
      watchedTable = '';
      commits.length = 0;
      const err = await run(dataSyncWorkflow, {
        tenantId,
        source: { placement: 'cloud', database: 'pagila' },
        // A database the site policy does not let loads write: the load is refused at once, without retries.
        destination: { placement: 'connector', connectorId, database: 'nowhere' },
        tables: [{ source: { schema: 'public', name: 'rental' }, destination: { name: 'rental' } }],
        chunkRows: 4000,
        cloudTaskQueue: platform.cloudTaskQueue,
      } satisfies DataSyncInput).catch((e: unknown) => e);
      expect(failureText(err)).toMatch(/writing to nowhere\.rental is refused by the site policy/);
      expect(commits).toHaveLength(1);
      const manifest = await platform.gateway.buffer.readManifest(tenantId, commits[0]!.objectId);
      expect(manifest.rowCount).toBe(16044);
    });

    it("a failed cloud extract cancels the agent's following load instead of leaving it waiting", async () => {
      const connectorId = await siteAgent({ mart: await mart() });
      platform.setCloudDatabases({ [tenantId]: { pagila: pagila() } });
      await expectExtractFailureCancelsLoad({
        tenantId,
        source: { placement: 'cloud', database: 'pagila' },
        destination: { placement: 'connector', connectorId, database: 'mart' },
        tables: [{ source: { schema: 'public', name: 'no_such_table' }, destination: { name: 'x' } }],
        cloudTaskQueue: platform.cloudTaskQueue,
      });
    });

    it('reloads every committed row when a retried extract rewrites a chunk the agent already loaded', async () => {
      const connectorId = await siteAgent({ mart: await mart() });
      const col = (name: string, type: ColumnSpec['type'], nullable = true): ColumnSpec => ({
        name,
        type,
        nullable,
        nativeType: '',
      });
      const columns = [col('id', { kind: 'integer', bits: 32 }, false), col('name', { kind: 'text', maxLength: 40 })];
      const schema = { columns, keyColumns: ['id'], dialect: 'postgres', source: 'items' };
      const rows = (from: number, to: number, label = 'first') =>
        Array.from({ length: to - from + 1 }, (_, i) => [from + i, `${label} ${from + i}`]);
      const buffer = platform.gateway.buffer;
      const write = async (objectId: string, index: number, part: unknown[][]) =>
        buffer.writeChunk(tenantId, objectId, index, await encodeChunk(part), part.length);
      const objectId = `rewritten${randomBytes(8).toString('hex')}`;
      // Attempt 1 of an extract (as the cloud writes it): chunks of 100 rows.
      await buffer.createObject(tenantId, { objectId });
      await buffer.publishSchema(tenantId, objectId, schema);
      await write(objectId, 0, rows(1, 100));
      await write(objectId, 1, rows(101, 200));
      watchedTable = 'items';
      const loading = run(loadStepWorkflow, {
        tenantId,
        destination: { placement: 'connector', connectorId, database: 'mart' },
        table: { name: 'items' },
        keyColumns: ['id'],
        objectId,
        follow: true,
      });
      loading.catch(() => undefined);
      await until('chunks 0 and 1 in the site table', async () => ((await rowsIn('items')) === 200 ? true : undefined));
      await expect(buffer.readManifest(tenantId, objectId)).rejects.toMatchObject({ code: 'NOT_COMMITTED' });
      // Attempt 2 resumed after chunk 0, and the source changed meanwhile: chunk 1 holds other rows now.
      await write(objectId, 1, rows(101, 150, 'second'));
      await write(objectId, 2, rows(151, 300, 'second'));
      holdCloudCommits = false;
      await buffer.commit(tenantId, objectId, { schema, chunkCount: 3, rowCount: 300 });
      holdCloudCommits = true;
      expect(await loading).toMatchObject({ rowCount: 300, chunkCount: 3 });

      // The site table holds exactly the committed object: its rows, with their committed values.
      await destination!.createTable({ name: 'expected' }, columns, ['id']);
      await destination!.writeRows({ name: 'expected' }, columns, [...rows(1, 100), ...rows(101, 300, 'second')], {
        mode: 'insert',
        keyColumns: ['id'],
      });
      expect(await tableChecksum(destination!, { name: 'items' }, columns, ['id'])).toEqual(
        await tableChecksum(destination!, { name: 'expected' }, columns, ['id']),
      );
    });
  });
});
