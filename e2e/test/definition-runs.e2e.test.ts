import { randomBytes } from 'node:crypto';
import { DEFINITION_FORMAT, type DefinitionDocumentInput } from '@vansales/definitions';
import { startPlatform, until, type Platform } from './support/harness';
import { startStandInWorker } from './support/stand-in-worker';

/**
 * Runs, control flags and schedules of definitions through REST, on the real Temporal dev server.
 * The interpreter is another branch's (i10-interp): a STAND-IN registered under its name
 * (support/stand-in-definition-workflow.ts) honours the contract: input, status query, control and
 * approval signals. Definitions are created, published and archived through their own REST routes.
 */

/** Three steps in a chain: an approval, then two sources (cloud reads the stand-in does not run). */
const chain = (extra: Partial<DefinitionDocumentInput> = {}, connectorId?: string): DefinitionDocumentInput => ({
  format: DEFINITION_FORMAT,
  name: 'chain',
  triggers: [{ kind: 'manual' }, { kind: 'api' }],
  steps: [
    { id: 'a', kind: 'wait-for-signal' },
    connectorId
      ? {
          id: 'b',
          kind: 'source',
          db: { endpoint: { kind: 'site-db', connectorId, database: 'erp' }, table: { name: 'orders' } },
        }
      : { id: 'b', kind: 'source', db: { endpoint: { kind: 'cloud-db', database: 'erp' }, table: { name: 'orders' } } },
    { id: 'c', kind: 'source', db: { endpoint: { kind: 'cloud-db', database: 'dw' }, table: { name: 'orders' } } },
  ],
  edges: [
    { from: 'a', to: 'b' },
    { from: 'b', to: 'c' },
  ],
  ...extra,
});
const straight = (): DefinitionDocumentInput => ({
  ...chain(),
  steps: [
    { id: 'a', kind: 'source', db: { endpoint: { kind: 'cloud-db', database: 'erp' }, table: { name: 'orders' } } },
    { id: 'b', kind: 'source', db: { endpoint: { kind: 'cloud-db', database: 'erp' }, table: { name: 'orders' } } },
    { id: 'c', kind: 'source', db: { endpoint: { kind: 'cloud-db', database: 'dw' }, table: { name: 'orders' } } },
  ],
});

interface Run {
  runId: string;
  status: string;
  trigger: string | null;
  startedBy: string | null;
  run: {
    state: string;
    steps: Record<string, { state: string; output?: { value?: { trigger?: string } }; route?: string }>;
  } | null;
}

describe('definition runs, control flags and schedules through REST', () => {
  let platform: Platform;
  let worker: { close(): Promise<void> };
  const tenant = `ta-${randomBytes(3).toString('hex')}`;
  const other = `tb-${randomBytes(3).toString('hex')}`;

  const call = async <T = unknown>(
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await platform.gateway.app.inject({
      method,
      url,
      payload: body as object | undefined,
      headers: { authorization: `Bearer ${platform.adminToken}`, ...headers },
    });
    return { status: res.statusCode, body: res.json() as T };
  };
  /** Creates the definition (or a new version of it) and publishes that version. */
  const publish = async (t: string, d: string, document: DefinitionDocumentInput) => {
    const created = await call<{ version: { version: number } }>('POST', `/v1/tenants/${t}/definitions`, {
      id: d,
      document,
    });
    if (created.status !== 201 && created.status !== 409) throw new Error(JSON.stringify(created.body));
    const version =
      created.status === 201
        ? created.body.version.version
        : (
            await call<{ version: { version: number } }>('POST', `/v1/tenants/${t}/definitions/${d}/versions`, {
              document,
            })
          ).body.version.version;
    const published = await call('POST', `/v1/tenants/${t}/definitions/${d}/publish`, { version });
    expect(published.status).toBe(200);
    return version;
  };
  const archive = async (t: string, d: string) =>
    expect((await call('POST', `/v1/tenants/${t}/definitions/${d}/archive`)).status).toBe(200);
  const runs = (t: string, d: string) => `/v1/tenants/${t}/definitions/${d}/runs`;
  const getRun = (t: string, d: string, id: string) => call<Run>('GET', `${runs(t, d)}/${id}`);
  const untilRun = (t: string, d: string, id: string, what: string, ok: (r: Run) => boolean) =>
    until(`${id}: ${what}`, async () => {
      const r = await getRun(t, d, id);
      if (process.env.DEBUG_RUNS) console.log(JSON.stringify(r));
      return r.status === 200 && ok(r.body) ? r.body : undefined;
    });

  beforeAll(async () => {
    platform = await startPlatform({ workflowWorker: false });
    worker = await startStandInWorker(platform);
    for (const id of [tenant, other])
      expect((await call('POST', '/v1/tenants', { id, name: id })).status).toBeLessThan(300);
  }, 180_000);

  afterAll(async () => {
    await worker?.close();
    await platform?.close();
  });

  it('starts once per Idempotency-Key (also when two requests race), reads steps, approves, lists', async () => {
    await publish(tenant, 'orders', chain());
    const key = { 'idempotency-key': `order-${randomBytes(4).toString('hex')}`, 'x-actor': 'alice' };
    const [first, second] = await Promise.all([
      call<{ runId: string; created: boolean }>('POST', runs(tenant, 'orders'), { input: { n: 1 } }, key),
      call<{ runId: string; created: boolean }>('POST', runs(tenant, 'orders'), { input: { n: 1 } }, key),
    ]);
    expect([first.status, second.status].sort()).toEqual([200, 201]);
    expect(first.body.runId).toBe(second.body.runId);
    const again = await call<{ runId: string }>('POST', runs(tenant, 'orders'), { input: { n: 1 } }, key);
    expect(again).toMatchObject({ status: 200, body: { runId: first.body.runId, created: false } });
    const reused = await call<{ error: { message: string } }>('POST', runs(tenant, 'orders'), { input: { n: 2 } }, key);
    expect(reused.status).toBe(409);
    expect(reused.body.error.message).toMatch(/Idempotency-Key was first used for another request/);

    const id = first.body.runId;
    const waiting = await untilRun(
      tenant,
      'orders',
      id,
      'waits for approval',
      (r) => r.run?.steps.a?.state === 'waiting',
    );
    expect(waiting).toMatchObject({ status: 'running', trigger: 'manual', startedBy: 'admin:alice' });
    expect(waiting.run?.steps.b?.state).toBe('pending');
    const approved = await call('POST', `${runs(tenant, 'orders')}/${id}/approve`, { stepId: 'a', approved: true });
    expect(approved.status).toBe(200);
    // Once completed, the steps come from the workflow's result.
    const done = await untilRun(tenant, 'orders', id, 'completes', (r) => r.status === 'completed');
    expect(done.run).toMatchObject({
      state: 'completed',
      steps: { a: { state: 'completed' }, c: { state: 'completed' } },
    });

    const listed = await call<Run[]>('GET', `${runs(tenant, 'orders')}?status=completed`);
    expect(listed.body.map((r) => r.runId)).toContain(id);
    const running = await call<Run[]>('GET', `${runs(tenant, 'orders')}?status=running`);
    expect(running.body.map((r) => r.runId)).not.toContain(id);
  });

  it('retries a failed run from a step reusing the outputs before it; re-runs with the same input', async () => {
    await publish(tenant, 'sync', straight());
    const started = await call<{ runId: string }>('POST', runs(tenant, 'sync'), { input: { failAt: 'b' } });
    expect(started.status).toBe(201);
    const failed = await untilRun(tenant, 'sync', started.body.runId, 'fails at b', (r) => r.status === 'failed');
    expect(failed.run?.steps).toMatchObject({
      a: { state: 'completed' },
      b: { state: 'failed' },
      c: { state: 'pending' },
    });

    const retry = await call<{ runId: string; trigger: string }>(
      'POST',
      `${runs(tenant, 'sync')}/${started.body.runId}/retry`,
      { fromStep: 'b' },
    );
    expect(retry).toMatchObject({ status: 201, body: { trigger: 'retry' } });
    const retried = await untilRun(tenant, 'sync', retry.body.runId, 'completes', (r) => r.status === 'completed');
    // a's output is the failed run's (made by its manual trigger), not made again by the retry.
    expect(retried.run?.steps.a).toMatchObject({ state: 'completed', output: { value: { trigger: 'manual' } } });
    expect(retried.run?.steps.b).toMatchObject({ state: 'completed', output: { value: { trigger: 'retry' } } });

    const badStep = await call('POST', `${runs(tenant, 'sync')}/${started.body.runId}/retry`, { fromStep: 'zz' });
    expect(badStep.status).toBe(400);
    const notFailed = await call('POST', `${runs(tenant, 'sync')}/${retry.body.runId}/retry`, { fromStep: 'b' });
    expect(notFailed.status).toBe(409);

    const rerun = await call<{ runId: string }>('POST', `${runs(tenant, 'sync')}/${started.body.runId}/rerun`);
    expect(rerun.status).toBe(201);
    // The same input again: it fails at b again.
    await untilRun(tenant, 'sync', rerun.body.runId, 'fails again', (r) => r.status === 'failed');
  });

  it('pauses running runs at the next step boundary, refuses new ones naming the flag, resumes; audits each change', async () => {
    await publish(tenant, 'paused-def', chain());
    const started = await call<{ runId: string }>('POST', runs(tenant, 'paused-def'), {});
    const id = started.body.runId;
    await untilRun(tenant, 'paused-def', id, 'waits', (r) => r.run?.steps.a?.state === 'waiting');

    const set = await call<{ runsSignalled: number }>(
      'POST',
      `/v1/tenants/${tenant}/flags`,
      { scope: 'definition', targetId: 'paused-def', state: 'paused', reason: 'ERP maintenance' },
      { 'x-actor': 'bob' },
    );
    expect(set).toMatchObject({ status: 200, body: { runsSignalled: 1 } });
    const refused = await call<{ error: { message: string } }>('POST', runs(tenant, 'paused-def'), {});
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(
      /pause of definition paused-def set by admin:bob at \d{4}-\d{2}-\d{2}T.*\(ERP maintenance\)/,
    );
    // Other definitions of the tenant still run.
    await publish(tenant, 'free', straight());
    expect((await call('POST', runs(tenant, 'free'), {})).status).toBe(201);

    await call('POST', `${runs(tenant, 'paused-def')}/${id}/approve`, { stepId: 'a', approved: true });
    const paused = await untilRun(tenant, 'paused-def', id, 'pauses', (r) => r.run?.state === 'paused');
    expect(paused.run?.steps).toMatchObject({ a: { state: 'completed' }, b: { state: 'pending' } });

    const cleared = await call('DELETE', `/v1/tenants/${tenant}/flags`, {
      scope: 'definition',
      targetId: 'paused-def',
    });
    expect(cleared).toMatchObject({ status: 200, body: { runsSignalled: 1 } });
    await untilRun(tenant, 'paused-def', id, 'completes after resume', (r) => r.status === 'completed');
    expect((await call('POST', runs(tenant, 'paused-def'), {})).status).toBe(201);

    const events = await platform.gateway.db
      .selectFrom('audit_events')
      .select('record')
      .where('connector_id', '=', `flags:${tenant}`)
      .orderBy('seq')
      .execute();
    const records = events.map((e) => e.record as { operation: string; actor: { activityId: string } });
    expect(records.map((r) => [r.operation, r.actor.activityId])).toEqual([
      ['flag.pause.definition:paused-def', 'admin:bob'],
      ['flag.clear.definition:paused-def', 'admin'],
    ]);
  });

  it('an emergency stop of a connector ends its runs at the next boundary; a tenant stop refuses every run', async () => {
    const connector = await call<{ id: string }>('POST', `/v1/tenants/${tenant}/connectors`, { name: 'hq' });
    expect(connector.status).toBe(201);
    await publish(tenant, 'site-def', chain({}, connector.body.id));
    const started = await call<{ runId: string }>('POST', runs(tenant, 'site-def'), {});
    const id = started.body.runId;
    await untilRun(tenant, 'site-def', id, 'waits', (r) => r.run?.steps.a?.state === 'waiting');
    // Visibility lists the run by its ConnectorIds before the flag is set.
    await until('the run to be visible by connector', async () => {
      for await (const wf of platform.temporal.workflow.list({ query: `ConnectorIds = '${connector.body.id}'` }))
        if (wf.workflowId === id) return true;
      return false;
    });
    const stop = await call<{ runsSignalled: number }>('POST', `/v1/tenants/${tenant}/flags`, {
      scope: 'connector',
      targetId: connector.body.id,
      state: 'stopped',
      reason: 'leaking rows',
    });
    expect(stop).toMatchObject({ status: 200, body: { runsSignalled: 1 } });
    await call('POST', `${runs(tenant, 'site-def')}/${id}/approve`, { stepId: 'a', approved: true });
    const stopped = await untilRun(tenant, 'site-def', id, 'stops', (r) => r.status === 'completed');
    expect(stopped.run).toMatchObject({ state: 'stopped', steps: { b: { state: 'pending' } } });
    const refused = await call<{ error: { message: string } }>('POST', runs(tenant, 'site-def'), {});
    expect(refused.body.error.message).toMatch(new RegExp(`emergency stop of connector ${connector.body.id}`));
    // A definition that does not touch the connector is not refused.
    expect((await call('POST', runs(tenant, 'free'), {})).status).toBe(201);
    await call('DELETE', `/v1/tenants/${tenant}/flags`, { scope: 'connector', targetId: connector.body.id });

    await call('POST', `/v1/tenants/${tenant}/flags`, {
      scope: 'tenant',
      targetId: tenant,
      state: 'stopped',
      reason: 'incident',
    });
    const all = await call<{ error: { message: string } }>('POST', runs(tenant, 'free'), {});
    expect(all.status).toBe(409);
    expect(all.body.error.message).toMatch(new RegExp(`emergency stop of tenant ${tenant} set by admin`));
    await call('DELETE', `/v1/tenants/${tenant}/flags`, { scope: 'tenant', targetId: tenant });
    expect((await call('POST', runs(tenant, 'free'), {})).status).toBe(201);
  });

  it('cancels a run; an archived definition refuses new runs with 409; a missing one is 404', async () => {
    await publish(tenant, 'to-archive', chain());
    const started = await call<{ runId: string }>('POST', runs(tenant, 'to-archive'), { trigger: 'api' });
    const cancel = await call('POST', `${runs(tenant, 'to-archive')}/${started.body.runId}/cancel`);
    expect(cancel.status).toBe(202);
    await untilRun(tenant, 'to-archive', started.body.runId, 'is cancelled', (r) => r.status === 'cancelled');
    const listed = await call<Run[]>('GET', `${runs(tenant, 'to-archive')}?status=cancelled`);
    expect(listed.body.map((r) => r.runId)).toEqual([started.body.runId]);
    expect((await call('POST', `${runs(tenant, 'to-archive')}/${started.body.runId}/cancel`)).status).toBe(409);
    await archive(tenant, 'to-archive');
    const archived = await call<{ error: { message: string } }>('POST', runs(tenant, 'to-archive'), {});
    expect(archived.status).toBe(409);
    expect(archived.body.error.message).toMatch(/was archived at .* and takes no new runs/);
    expect((await call('POST', runs(tenant, 'never-made'), {})).status).toBe(404);
  });

  it("keeps tenants apart: tenant B cannot start, read, cancel, approve, retry or flag tenant A's runs", async () => {
    await publish(tenant, 'private', chain());
    const started = await call<{ runId: string }>('POST', runs(tenant, 'private'), {});
    const id = started.body.runId;
    await untilRun(tenant, 'private', id, 'waits', (r) => r.run?.steps.a?.state === 'waiting');
    expect((await call('POST', runs(other, 'private'), {})).status).toBe(404);
    expect((await getRun(other, 'private', id)).status).toBe(404);
    expect((await call('POST', `${runs(other, 'private')}/${id}/cancel`)).status).toBe(404);
    expect(
      (await call('POST', `${runs(other, 'private')}/${id}/approve`, { stepId: 'a', approved: false })).status,
    ).toBe(404);
    expect((await call('POST', `${runs(other, 'private')}/${id}/retry`, { fromStep: 'a' })).status).toBe(404);
    expect((await call('POST', `${runs(other, 'private')}/${id}/rerun`)).status).toBe(404);
    expect((await call<Run[]>('GET', runs(other, 'private'))).body).toEqual([]);
    // B's flags name only B's things: A's definition id is unknown in B, A's run is not signalled.
    expect(
      (
        await call('POST', `/v1/tenants/${other}/flags`, {
          scope: 'definition',
          targetId: 'private',
          state: 'stopped',
          reason: 'x',
        })
      ).status,
    ).toBe(404);
    const bStop = await call<{ runsSignalled: number }>('POST', `/v1/tenants/${other}/flags`, {
      scope: 'tenant',
      targetId: other,
      state: 'stopped',
      reason: 'x',
    });
    expect(bStop).toMatchObject({ status: 200, body: { runsSignalled: 0 } });
    expect(
      (
        await call('POST', `/v1/tenants/${other}/flags`, {
          scope: 'tenant',
          targetId: tenant,
          state: 'stopped',
          reason: 'x',
        })
      ).status,
    ).toBe(400);
    const nobody = { scope: 'tenant', targetId: 'no-such-tenant', state: 'stopped', reason: 'x' };
    expect((await call('POST', '/v1/tenants/no-such-tenant/flags', nobody)).status).toBe(404);
    await call('POST', `${runs(tenant, 'private')}/${id}/approve`, { stepId: 'a', approved: true });
    await untilRun(
      tenant,
      'private',
      id,
      'completes untouched by B',
      (r) => r.status === 'completed' && r.run?.state === 'completed',
    );
    expect((await call('GET', `/v1/tenants/${tenant}/flags`)).body).toEqual([]);
  });

  it('turns schedule triggers into Temporal Schedules that fire, pause with a flag, and go on archive', async () => {
    // Publishing makes the schedule trigger a Temporal Schedule.
    await publish(tenant, 'nightly', {
      ...straight(),
      triggers: [{ kind: 'schedule', every: '1s', catchupWindow: '1m', overlap: 'skip' }],
    });
    const ids = [`defsched-${tenant}-nightly-0`];
    const listed = await call<
      { scheduleId: string; paused: boolean; overlap: string; catchupWindowMs: number; nextRunTimes: string[] }[]
    >('GET', `/v1/tenants/${tenant}/definitions/nightly/schedules`);
    expect(listed.body).toEqual([
      expect.objectContaining({ scheduleId: ids[0], paused: false, overlap: 'SKIP', catchupWindowMs: 60_000 }),
    ]);
    expect(listed.body[0]!.nextRunTimes.length).toBeGreaterThan(0);

    // It fires on the real server: a completed run of the pinned version appears in the listing.
    const fired = await until('a scheduled run to complete', async () => {
      const r = await call<Run[]>('GET', `${runs(tenant, 'nightly')}?status=completed`);
      return r.body[0];
    });
    expect(fired.runId.startsWith(`def-${tenant}-nightly-s0-`)).toBe(true);
    expect((await getRun(tenant, 'nightly', fired.runId)).body.run?.state).toBe('completed');

    await call('POST', `/v1/tenants/${tenant}/flags`, {
      scope: 'definition',
      targetId: 'nightly',
      state: 'paused',
      reason: 'quiet',
    });
    const paused = await call<{ paused: boolean; note: string }[]>(
      'GET',
      `/v1/tenants/${tenant}/definitions/nightly/schedules`,
    );
    expect(paused.body[0]).toMatchObject({
      paused: true,
      note: expect.stringMatching(/control flag: pause of definition nightly/),
    });
    const resumeRefused = await call('POST', `/v1/tenants/${tenant}/definitions/nightly/schedules/${ids[0]}/resume`);
    expect(resumeRefused.status).toBe(409);
    await call('DELETE', `/v1/tenants/${tenant}/flags`, { scope: 'definition', targetId: 'nightly' });
    const resumed = await call<{ paused: boolean }[]>('GET', `/v1/tenants/${tenant}/definitions/nightly/schedules`);
    expect(resumed.body[0]!.paused).toBe(false);

    expect((await call('POST', `/v1/tenants/${tenant}/definitions/nightly/schedules/${ids[0]}/pause`)).status).toBe(
      200,
    );
    expect((await call('POST', `/v1/tenants/${other}/definitions/nightly/schedules/${ids[0]}/resume`)).status).toBe(
      404,
    );

    await archive(tenant, 'nightly');
    expect((await call('GET', `/v1/tenants/${tenant}/definitions/nightly/schedules`)).body).toEqual([]);
  });
});
