import { randomBytes } from 'node:crypto';
import { publishDefinition, startDefinitionRun, untilRunEnds } from './support/definition-rest';
import { startPlatform, type Platform } from './support/harness';
import { rawQuery } from './support/raw-sql';
import { approvalDocument, chainDocument, memberSession, seedRuns } from './support/runs-fixture';
import { startStandInWorker } from './support/stand-in-worker';

/**
 * GET /v1/tenants/:t/runs (issue 12 §2 Runs): every run of a tenant, filtered by status, definition,
 * connector and time, paged by keyset; another tenant sees none of them. Runs are real Temporal
 * executions of the interpreter's stand-in, plus rows seeded in bulk for paging.
 */
interface Listed {
  runs: {
    runId: string;
    definitionId: string;
    status: string;
    connectorIds: string[];
    startedAt: string;
    startedBy: string;
    startedByLabel: string | null;
  }[];
  next?: string;
}

describe('the tenant-wide runs list', () => {
  let platform: Platform;
  let worker: { close(): Promise<void> };
  const tenant = `runs-${randomBytes(3).toString('hex')}`;
  const other = `runs-${randomBytes(3).toString('hex')}`;
  const list = (query: string, token?: string) =>
    platform.api<Listed>('GET', `/v1/tenants/${tenant}/runs${query}`, undefined, token);
  const ids = (l: Listed) => l.runs.map((r) => r.runId);
  let held: string;
  let failed: string;
  let completed: string;
  let connectorId: string;

  beforeAll(async () => {
    platform = await startPlatform({ workflowWorker: false });
    worker = await startStandInWorker(platform);
    for (const id of [tenant, other])
      expect((await platform.api('POST', '/v1/tenants', { id, name: id })).status).toBe(201);
    const connector = await platform.api<{ id: string }>('POST', `/v1/tenants/${tenant}/connectors`, { name: 'erp' });
    connectorId = connector.body.id;
    await publishDefinition(platform, tenant, 'approvals', approvalDocument(connectorId));
    await publishDefinition(platform, tenant, 'chain', chainDocument());
    held = await startDefinitionRun(platform, tenant, 'approvals');
    failed = await startDefinitionRun(platform, tenant, 'chain', { failAt: 'transform' });
    completed = await startDefinitionRun(platform, tenant, 'chain');
    await untilRunEnds(platform, tenant, 'chain', failed);
    await untilRunEnds(platform, tenant, 'chain', completed);
  }, 180_000);

  afterAll(async () => {
    await worker?.close();
    await platform?.close();
  });

  it('lists every run newest first and filters by status, definition, connector and time', async () => {
    const all = await list('');
    expect(all.status).toBe(200);
    expect(ids(all.body)).toEqual([completed, failed, held]);
    expect(all.body.runs.find((r) => r.runId === held)).toMatchObject({
      definitionId: 'approvals',
      status: 'running',
      connectorIds: [connectorId],
    });

    // The failed run's row said running when it was recorded; the status filter reads Temporal first.
    expect(ids((await list('?status=failed')).body)).toEqual([failed]);
    expect(ids((await list('?status=running')).body)).toEqual([held]);
    expect(ids((await list('?status=completed&definition=chain')).body)).toEqual([completed]);
    expect(ids((await list('?definition=chain')).body)).toEqual([completed, failed]);
    expect(ids((await list(`?connector=${connectorId}`)).body)).toEqual([held]);
    expect(ids((await list('?connector=nobody')).body)).toEqual([]);

    const heldAt = all.body.runs.find((r) => r.runId === held)!.startedAt;
    expect(ids((await list(`?until=${encodeURIComponent(heldAt)}`)).body)).toEqual([]);
    expect(ids((await list(`?since=${encodeURIComponent(heldAt)}&definition=approvals`)).body)).toEqual([held]);

    const bad = await platform.api<{ error: { message: string } }>('GET', `/v1/tenants/${tenant}/runs?after=bogus`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/pass the `next` of the previous page unchanged/);
    expect((await list('?status=sleeping')).status).toBe(400);
  });

  it('pages by keyset through runs that share one start instant, each run once', async () => {
    // 130 runs started at the same microsecond (ties broken by run id) and 2 days older than the rest.
    const instant = new Date(Date.now() - 2 * 86_400_000);
    await seedRuns(platform, {
      tenantId: tenant,
      count: 130,
      definitions: ['bulk'],
      connectors: ['site-a', 'site-b'],
      newest: instant,
      spacingMs: 0,
    });
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await list(`?definition=bulk&limit=50${after ? `&after=${after}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...ids(page.body));
      after = page.body.next;
      pages++;
    } while (after && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(130);
    expect(new Set(seen).size).toBe(130);
    expect([...seen].sort().reverse()).toEqual(seen);
    // Half of them name site-a.
    const siteA = await list('?definition=bulk&connector=site-a&limit=200');
    expect(siteA.body.runs).toHaveLength(65);
    expect(siteA.body.runs.every((r) => r.connectorIds.includes('site-a'))).toBe(true);
  });

  it("shows another tenant none of them; another tenant's people get 404", async () => {
    const theirs = await platform.api<Listed>('GET', `/v1/tenants/${other}/runs`);
    expect(theirs).toMatchObject({ status: 200, body: { runs: [] } });
    const outsider = await memberSession(platform, other, 'owner');
    expect((await list('', outsider)).status).toBe(404);
    const viewer = await memberSession(platform, tenant, 'viewer');
    expect(ids((await list('?definition=chain', viewer)).body)).toEqual([completed, failed]);
  });

  it("names who started each run for people: a member's email, a token's name; never another tenant's person", async () => {
    const starterPassword = randomBytes(18).toString('base64url');
    const member = await platform.api<{ userId: string }>('POST', `/v1/tenants/${tenant}/members`, {
      email: 'starter@example.com',
      role: 'operator',
      password: starterPassword,
    });
    const token = await platform.api<{ id: string }>('POST', `/v1/tenants/${tenant}/tokens`, {
      name: 'nightly-sync',
      role: 'operator',
      kind: 'tenant',
    });
    // Another tenant's person and token: their ids recorded on this tenant's runs resolve to nothing.
    const stranger = await platform.api<{ userId: string }>('POST', `/v1/tenants/${other}/members`, {
      email: 'stranger@example.com',
      role: 'owner',
      password: randomBytes(18).toString('base64url'),
    });
    const strangerToken = await platform.api<{ id: string }>('POST', `/v1/tenants/${other}/tokens`, {
      name: 'their-secret-name',
      role: 'viewer',
      kind: 'tenant',
    });
    for (const r of [member, token, stranger, strangerToken]) expect(r.status).toBe(201);
    const actors = [
      `user:${member.body.userId}`,
      `token:${token.body.id}`,
      `user:${stranger.body.userId}`,
      `token:${strangerToken.body.id}`,
      'admin:alice',
    ];
    await seedRuns(platform, { tenantId: tenant, count: actors.length, definitions: ['actors'], prefix: 'actor' });
    for (const [i, actor] of actors.entries())
      await rawQuery(
        platform.gateway.db,
        'UPDATE definition_runs SET started_by = $1 WHERE tenant_id = $2 AND run_key = $3',
        [actor, tenant, `actor${i}`],
      );
    const expected = {
      [actors[0]!]: 'starter@example.com',
      [actors[1]!]: 'token nightly-sync',
      [actors[2]!]: actors[2],
      [actors[3]!]: actors[3],
      'admin:alice': 'admin:alice',
    };
    const listed = (await list('?definition=actors')).body.runs;
    expect(Object.fromEntries(listed.map((r) => [r.startedBy, r.startedByLabel]))).toEqual(expected);
    expect(JSON.stringify(listed)).not.toMatch(/stranger@example\.com|their-secret-name/);
    // A run the member starts (a real execution): the definition's own list and the run's page say the same.
    const session = await platform.api<{ token: string }>('POST', '/v1/sessions', {
      email: 'starter@example.com',
      password: starterPassword,
    });
    const started = await platform.api<{ runId: string }>(
      'POST',
      `/v1/tenants/${tenant}/definitions/chain/runs`,
      {},
      session.body.token,
    );
    expect(started.status).toBe(201);
    await untilRunEnds(platform, tenant, 'chain', started.body.runId);
    const perDefinition = await platform.api<Listed['runs']>('GET', `/v1/tenants/${tenant}/definitions/chain/runs`);
    expect(perDefinition.body.find((r) => r.runId === started.body.runId)?.startedByLabel).toBe('starter@example.com');
    const detail = await platform.api<{ startedBy: string; startedByLabel: string }>(
      'GET',
      `/v1/tenants/${tenant}/definitions/chain/runs/${started.body.runId}`,
    );
    expect(detail.body).toMatchObject({ startedBy: actors[0], startedByLabel: 'starter@example.com' });

    // A control flag the member sets is named the same way.
    const flag = { scope: 'definition', targetId: 'chain' };
    const set = await platform.api(
      'POST',
      `/v1/tenants/${tenant}/flags`,
      { ...flag, state: 'paused', reason: 'maintenance' },
      session.body.token,
    );
    expect(set.status).toBe(200);
    const flags = await platform.api<{ setBy: string; setByLabel: string }[]>('GET', `/v1/tenants/${tenant}/flags`);
    expect(flags.body).toEqual([expect.objectContaining({ setBy: actors[0], setByLabel: 'starter@example.com' })]);
    expect((await platform.api('DELETE', `/v1/tenants/${tenant}/flags`, flag)).status).toBe(200);
  });

  it("shows a run's inputs and outputs to operators, and to a viewer says why it does not", async () => {
    const url = `/v1/tenants/${tenant}/definitions/chain/runs/${completed}`;
    type Detail = {
      dataHidden: string | null;
      input: unknown;
      edges: unknown[];
      run: { steps: Record<string, { output?: unknown }> };
    };
    const operator = await platform.api<Detail>(
      'GET',
      url,
      undefined,
      await memberSession(platform, tenant, 'operator'),
    );
    expect(operator.status).toBe(200);
    expect(operator.body.dataHidden).toBeNull();
    expect(operator.body.edges).toEqual([
      { from: 'extract', to: 'transform' },
      { from: 'transform', to: 'load' },
    ]);
    expect(operator.body.run.steps.load?.output).toBeDefined();
    const viewer = await platform.api<Detail>('GET', url, undefined, await memberSession(platform, tenant, 'viewer'));
    expect(viewer.body.dataHidden).toMatch(/your role may read runs but not their data/);
    expect(viewer.body.input).toBeNull();
    expect(Object.values(viewer.body.run.steps).every((s) => s.output === undefined)).toBe(true);
  });
});
