import { randomBytes } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import type { OperationContext } from '@vansales/connector-agent';
import { startPlatform, until, type Platform } from './support/harness';

/**
 * Durability comes from Temporal: these tests drive an agent whose operation the test controls
 * (the agent's operation table is its extension point) over the real WebSocket, gateway Worker
 * and Temporal dev server.
 */
describe('durability through Temporal (real services)', () => {
  let platform: Platform;
  let tenantId: string;

  const newConnector = async (name: string) =>
    (await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name })).body;
  const startQuery = async (connectorId: string) =>
    (
      await platform.api<{ workflowId: string }>('POST', `/v1/tenants/${tenantId}/queries`, {
        connectorId,
        database: 'any',
        sql: 'SELECT 1',
        wait: false,
      })
    ).body.workflowId;

  beforeAll(async () => {
    platform = await startPlatform();
    tenantId = `t-${randomBytes(4).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Durable' });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('fails the attempt at once when the socket drops, and the retry resumes from the last progress', async () => {
    const c = await newConnector('drop');
    const seen: { attempt: number; resumeFrom: unknown; aborted?: boolean }[] = [];
    const first = platform.startCustomAgent(c.apiKey, {
      'sql.query': async (_input, ctx: OperationContext) => {
        const entry: { attempt: number; resumeFrom: unknown; aborted?: boolean } = {
          attempt: ctx.attempt,
          resumeFrom: ctx.resumeFrom,
        };
        seen.push(entry);
        ctx.progress({ rowsDone: 500, cursor: 'id>500' });
        await new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
        entry.aborted = true;
        return null;
      },
    });
    await first.welcomed;
    const workflowId = await startQuery(c.id);
    await until('the first attempt to start', () => seen.length === 1);
    // Once Temporal holds the heartbeat (the resume point), cut the agent off.
    const handle = platform.temporal.workflow.getHandle(workflowId);
    await until(
      'the heartbeat to reach Temporal',
      async () => ((await handle.describe()).raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.length ?? 0) > 0,
    );
    await first.agent.stop();

    const second = platform.startCustomAgent(c.apiKey, {
      'sql.query': async (_input, ctx: OperationContext) => {
        seen.push({ attempt: ctx.attempt, resumeFrom: ctx.resumeFrom });
        return { columns: [], rows: [['resumed', ctx.resumeFrom]], rowCount: 1, truncated: false };
      },
    });
    await second.welcomed;
    const result = (await platform.temporal.workflow.getHandle(workflowId).result()) as { rows: unknown[][] };
    expect(result.rows).toEqual([['resumed', { rowsDone: 500, cursor: 'id>500' }]]);
    expect(seen.map((s) => s.attempt)).toEqual([1, 2]);
    expect(seen[0]?.resumeFrom).toBeUndefined();

    const history = await platform.temporal.workflow.getHandle(workflowId).fetchHistory();
    const failed = history.events?.find((e) => e.activityTaskFailedEventAttributes);
    expect(failed).toBeUndefined(); // a retried attempt is not a failed event in history; the retry shows as attempt 2
    const started = history.events?.filter((e) => e.activityTaskStartedEventAttributes);
    expect(started?.[0]?.activityTaskStartedEventAttributes?.attempt).toBe(2);
    expect(started?.[0]?.activityTaskStartedEventAttributes?.lastFailure?.applicationFailureInfo?.type).toBe(
      'AgentDisconnected',
    );
  });

  it('carries a Temporal cancellation to the agent, which stops the work', async () => {
    const c = await newConnector('cancel');
    let aborted = false;
    let started = false;
    const agent = platform.startCustomAgent(c.apiKey, {
      'sql.query': async (_input, ctx: OperationContext) => {
        started = true;
        // Real progress while working: heartbeats are how cancellation travels back.
        const timer = setInterval(() => ctx.progress({ tick: Date.now() }), 200);
        try {
          await new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
        } finally {
          aborted = ctx.signal.aborted;
          clearInterval(timer);
        }
        return null;
      },
    });
    await agent.welcomed;
    const workflowId = await startQuery(c.id);
    await until('the operation to start', () => started);
    const handle = platform.temporal.workflow.getHandle(workflowId);
    await handle.cancel();
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    await until('the operation to be aborted', () => aborted);
    expect(aborted).toBe(true);
  });
});
