import { randomBytes } from 'node:crypto';
import type { WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import { throwawayPostgresDatabase } from '@vansales/test-kit';
import type { DataConnectionConfig } from '@vansales/dataflow';
import { extractStepWorkflow, loadStepWorkflow, type ExtractStepInput, type LoadStepInput } from '@vansales/workflows';
import { startPlatform, until, type Platform } from './support/harness';

function pgConfig(url: string, database: string): DataConnectionConfig {
  const u = new URL(url);
  return {
    dialect: 'postgres',
    host: u.hostname,
    port: Number(u.port),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database,
  };
}

function failureText(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  while (e && typeof e === 'object') {
    const x = e as { message?: string; type?: string; cause?: unknown };
    parts.push(`${x.type ?? ''} ${x.message ?? ''}`);
    e = x.cause;
  }
  return parts.join(' | ');
}

/**
 * Cloud activities act for the tenant a workflow names, on that tenant's things only; and a workflow
 * input cannot be lifted from one workflow into another (the payload codec binds it).
 */
describe('tenant boundaries in cloud activities and in Temporal payloads (real services)', () => {
  let platform: Platform;
  let drop: () => Promise<void>;
  let target: DataConnectionConfig;
  const owner = `own${randomBytes(3).toString('hex')}`;
  const intruder = `int${randomBytes(3).toString('hex')}`;

  const start = <W extends Workflow>(workflow: W, workflowId: string, input: Parameters<W>[0]) =>
    platform.temporal.workflow.start(workflow, {
      taskQueue: platform.workflowTaskQueue,
      workflowId,
      args: [input],
      workflowExecutionTimeout: '2 minutes',
    } as unknown as WorkflowStartOptions<W>);

  beforeAll(async () => {
    platform = await startPlatform();
    const db = await throwawayPostgresDatabase('vsc_own');
    drop = db.drop;
    target = pgConfig(db.url, db.name);
    platform.setCloudDatabases({ [owner]: { dw: target }, [intruder]: { dw: target } });
  });
  afterAll(async () => {
    await platform?.close();
    await drop?.();
  });

  it("refuses to load another tenant's buffer object, which stays intact", async () => {
    const buffer = platform.gateway.buffer;
    const { objectId } = await buffer.createObject(owner, { ttlSeconds: 600 });
    await buffer.commit(owner, objectId, { schema: {}, chunkCount: 0, rowCount: 0 });
    const input: LoadStepInput = {
      tenantId: intruder,
      destination: { placement: 'cloud', database: 'dw' },
      table: { name: 'stolen' },
      keyColumns: ['id'],
      objectId,
      cloudTaskQueue: platform.cloudTaskQueue,
    };
    const err = await (
      await start(loadStepWorkflow, `own-${randomBytes(4).toString('hex')}`, input)
    )
      .result()
      .catch((e: unknown) => e);
    expect(failureText(err)).toMatch(/BufferRefused/);
    expect((await buffer.readManifest(owner, objectId)).rowCount).toBe(0);
  });

  it("refuses another tenant's cloud database", async () => {
    platform.setCloudDatabases({ [owner]: { dw: target } });
    const err = await (
      await start(extractStepWorkflow, `own-${randomBytes(4).toString('hex')}`, {
        tenantId: intruder,
        source: { placement: 'cloud', database: 'dw' },
        table: { name: 'anything' },
        cloudTaskQueue: platform.cloudTaskQueue,
      } satisfies ExtractStepInput)
    )
      .result()
      .catch((e: unknown) => e);
    expect(failureText(err)).toMatch(/UnknownDatabase.*has no cloud database named dw/);
    platform.setCloudDatabases({ [owner]: { dw: target }, [intruder]: { dw: target } });
  });

  it("a workflow input copied out of one tenant's history does not run in another workflow", async () => {
    // The owner's workflow, as the gateway starts it: its input is encrypted for this workflow id.
    const ownerRun = await start(loadStepWorkflow, `own-${randomBytes(4).toString('hex')}`, {
      tenantId: owner,
      destination: { placement: 'cloud', database: 'dw' },
      table: { name: 'mine' },
      keyColumns: ['id'],
      objectId: 'b'.repeat(32),
      cloudTaskQueue: platform.cloudTaskQueue,
    } satisfies LoadStepInput);
    await ownerRun.result().catch(() => undefined);
    const history = await ownerRun.fetchHistory();
    const sealedInput = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;

    // Whoever reaches the Temporal frontend replays those bytes as the input of a workflow of its own.
    const theirs = `theirs-${randomBytes(4).toString('hex')}`;
    await platform.temporal.workflowService.startWorkflowExecution({
      namespace: platform.temporal.options.namespace,
      workflowId: theirs,
      workflowType: { name: loadStepWorkflow.name },
      taskQueue: { name: platform.workflowTaskQueue },
      input: { payloads: sealedInput },
      requestId: randomBytes(16).toString('hex'),
      workflowExecutionTimeout: msToTs('2 minutes'),
    });
    // The worker cannot decode the input there: the workflow task fails and never schedules an activity.
    const failed = await until('the copied input to be refused', async () => {
      const { events } = await platform.temporal.workflow.getHandle(theirs).fetchHistory();
      const failure = events?.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes;
      return failure ? failure : undefined;
    });
    expect(JSON.stringify(failed)).toBeTruthy();
    const { events } = await platform.temporal.workflow.getHandle(theirs).fetchHistory();
    expect(events?.some((e) => e.activityTaskScheduledEventAttributes)).toBe(false);
    await platform.temporal.workflow.getHandle(theirs).terminate('test over');
  });
});
