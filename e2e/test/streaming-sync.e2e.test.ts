import { randomBytes } from 'node:crypto';
import type { WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type { FastifyRequest, RouteOptions } from 'fastify';
import { openDataConnection, tableChecksum, type DataConnection } from '@vansales/dataflow';
import { throwawayPostgresDatabase } from '@vansales/test-kit';
import { dataSyncWorkflow, type DataSyncInput } from '@vansales/workflows';
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
  const commits: CommitSeen[] = [];
  const drops: (() => Promise<void>)[] = [];

  const rowsIn = async (table: string) => {
    if (!destination || !(await destination.describeTable({ name: table }))) return 0;
    const described = (await destination.describeTable({ name: table }))!;
    return (await tableChecksum(destination, { name: table }, described.columns, described.primaryKey)).rows;
  };
  const holdCommit = async (req: FastifyRequest) => {
    const { objectId } = req.params as { objectId: string };
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
  });
  afterAll(async () => {
    await destination?.close();
    await platform?.close();
    for (const drop of drops) await drop();
  });

  const siteAgent = async () => {
    const site = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, {
        name: `site-${randomBytes(3).toString('hex')}`,
      })
    ).body;
    const agent = platform.startAgent({
      apiKey: site.apiKey,
      databases: { sakila: { dialect: 'mysql', ...services.mariadb, ...(await sakilaReader()), database: 'sakila' } },
    });
    await agent.welcomed;
    return site.id;
  };
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

  it('a failed extract cancels its following load instead of leaving it waiting for the object', async () => {
    const connectorId = await siteAgent();
    await warehouse();
    const workflowId = `stream-missing-${randomBytes(4).toString('hex')}`;
    const handle = await platform.temporal.workflow.start(dataSyncWorkflow, {
      taskQueue: platform.workflowTaskQueue,
      workflowId,
      args: [
        {
          tenantId,
          source: { placement: 'connector', connectorId, database: 'sakila' },
          destination: { placement: 'cloud', database: 'dw' },
          tables: [{ source: { name: 'no_such_table' } }],
          cloudTaskQueue: platform.cloudTaskQueue,
        } satisfies DataSyncInput,
      ],
    });
    const err = await handle.result().catch((e: unknown) => e);
    expect(failureText(err)).toMatch(/no_such_table.*does not exist/);
    const { events } = await handle.fetchHistory();
    expect(events?.some((e) => e.activityTaskCancelRequestedEventAttributes)).toBe(true);
  });
});
