import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { Client as PgClient } from 'pg';
import { openDataConnection, tableChecksum, type DataConnection } from '@vansales/dataflow';
import {
  DefinitionDocument,
  DEFINITION_FORMAT,
  siteEventWatcherId,
  type DefinitionDocumentInput,
  type DefinitionRunStatus,
  type SiteEventWatcherStatus,
} from '@vansales/definitions';
import { throwawayPostgresDatabase } from '@vansales/test-kit';
import { SearchAttribute } from '@vansales/temporal-config';
import { siteEventWatcherWorkflow, watcherStatusQuery } from '@vansales/workflows';
import { mariaConfig, pgConfig, services, startPlatform, until, type Platform } from './support/harness';
import { saveHistory } from './support/history-recorder';

const record = process.env.VSC_RECORD_HISTORIES === '1';

/**
 * The site-event trigger end to end (issue 10 item 4): a definition published through REST with a
 * `site-event` trigger gets a watcher workflow; the real agent watches a table of the site (MariaDB
 * by cursor polling, PostgreSQL woken by NOTIFY) and every batch of new rows starts one run of the
 * real interpreter, which loads the batch into a cloud PostgreSQL. Rows are checked delivered
 * exactly once: the batches' row counts add up to the rows inserted and to the distinct rows at the
 * destination, whose checksum equals the site table's.
 */
describe('site-event trigger: the agent watches a table and starts a run per batch (real services)', () => {
  let platform: Platform;
  const tenantId = `se-${randomBytes(3).toString('hex')}`;
  const mariaDb = `vsc_se_${randomBytes(4).toString('hex')}`;
  let connectorId: string;
  let apiKey: string;
  let sitePg: { name: string; url: string; drop: () => Promise<void> };
  let dw: { name: string; url: string; drop: () => Promise<void> };
  let warehouse: DataConnection;
  let siteMaria: DataConnection;
  let agent: ReturnType<Platform['startAgent']>;
  let policyFile: string;

  const agentDatabases = () => ({ shop: mariaConfig(mariaDb), events: pgConfig(sitePg.url, sitePg.name) });
  const startAgent = async () => {
    agent = platform.startAgent({ apiKey, databases: agentDatabases(), policyFile });
    await agent.welcomed;
  };
  const maria = async (sql: string, values: unknown[] = []) => {
    const conn = await createConnection({ ...services.mariadb, database: mariaDb });
    try {
      await conn.query(sql, values);
    } finally {
      await conn.end();
    }
  };
  const pg = async (sql: string) => {
    const c = new PgClient({ connectionString: sitePg.url });
    await c.connect();
    try {
      return await c.query(sql);
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    platform = await startPlatform();
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: tenantId });
    const c = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name: 'shop' })
    ).body;
    connectorId = c.id;
    apiKey = c.apiKey;
    const admin = await createConnection(services.mariadb);
    await admin.query(`CREATE DATABASE \`${mariaDb}\``);
    await admin.end();
    await maria(
      `CREATE TABLE orders (id INT PRIMARY KEY, updated_at DATETIME(3) NOT NULL, amount DECIMAL(10,2) NOT NULL, note VARCHAR(40), secret VARCHAR(40))`,
    );
    sitePg = await throwawayPostgresDatabase('vsc_se_site');
    dw = await throwawayPostgresDatabase('vsc_se_dw');
    await pg(`CREATE TABLE events (id BIGINT PRIMARY KEY, at TIMESTAMPTZ NOT NULL, kind TEXT NOT NULL)`);
    platform.setCloudDatabases({ [tenantId]: { dw: pgConfig(dw.url, dw.name) } });
    warehouse = await openDataConnection(pgConfig(dw.url, dw.name));
    siteMaria = await openDataConnection(mariaConfig(mariaDb));
    policyFile = join(mkdtempSync(join(tmpdir(), 'vsc-se-')), 'policy.json');
    // The site masks `secret`: a watch using it as its cursor is refused, naming the rule.
    writeFileSync(
      policyFile,
      JSON.stringify({
        columns: [{ database: 'shop', table: 'orders', column: 'secret', action: 'mask' }],
        writableTables: [{ database: 'events', table: '*' }],
      }),
    );
    await startAgent();
  }, 180_000);

  afterAll(async () => {
    await warehouse?.close();
    await siteMaria?.close();
    await platform?.close();
    await sitePg?.drop();
    await dw?.drop();
    const admin = await createConnection(services.mariadb);
    await admin.query(`DROP DATABASE IF EXISTS \`${mariaDb}\``);
    await admin.end();
  });

  const call = async <T>(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) => {
    const res = await platform.gateway.app.inject({
      method,
      url,
      payload: body as object | undefined,
      headers: { authorization: `Bearer ${platform.adminToken}` },
    });
    return { status: res.statusCode, body: res.json() as T };
  };

  /** A watched site table copied to the warehouse table `into`, one run per batch. */
  const copyOnEvent = (
    trigger: Record<string, unknown>,
    source: { database: string; table: string; keyColumns: string[] },
    into: string,
  ): DefinitionDocumentInput => ({
    format: DEFINITION_FORMAT,
    name: `${source.table} on event`,
    triggers: [
      {
        kind: 'site-event',
        connectorId,
        database: source.database,
        table: { name: source.table },
        ...trigger,
      } as never,
    ],
    steps: [
      {
        id: 'rows',
        kind: 'source',
        db: { endpoint: { kind: 'site-db', connectorId, database: source.database }, table: { name: source.table } },
      },
      {
        id: 'load',
        kind: 'destination',
        db: {
          endpoint: { kind: 'cloud-db', database: 'dw' },
          table: { name: into },
          keyColumns: source.keyColumns,
          createIfMissing: true,
        },
      },
    ],
    edges: [{ from: 'rows', to: 'load' }],
  });

  const publish = async (definitionId: string, document: DefinitionDocumentInput) => {
    const created = await call<{ version: { version: number } }>('POST', `/v1/tenants/${tenantId}/definitions`, {
      id: definitionId,
      document,
    });
    expect(created.status).toBe(201);
    const published = await call('POST', `/v1/tenants/${tenantId}/definitions/${definitionId}/publish`, {
      version: created.body.version.version,
    });
    expect(published.status).toBe(200);
  };

  const watcher = (definitionId: string) =>
    platform.temporal.workflow.getHandle(siteEventWatcherId(tenantId, definitionId, 0));
  const status = (definitionId: string) => watcher(definitionId).query(watcherStatusQuery);

  /** Every run the watcher started, completed, with the rows of its batch. */
  const runsOf = async (definitionId: string) => {
    const ids: string[] = [];
    for await (const wf of platform.temporal.workflow.list({
      query: `WorkflowType = 'definitionWorkflow' AND DefinitionId = '${definitionId}' AND TenantId = '${tenantId}'`,
    }))
      ids.push(wf.workflowId);
    const runs = [];
    for (const id of ids) {
      const result = (await platform.temporal.workflow.getHandle(id).result()) as DefinitionRunStatus;
      runs.push({ id, state: result.state, rows: result.steps.rows?.output?.dataset?.rows ?? -1 });
    }
    return runs;
  };
  const runsSettled = async (definitionId: string, count: number) =>
    until(
      `${count} runs of ${definitionId}`,
      async () => {
        const runs = await runsOf(definitionId);
        return runs.length === count ? runs : undefined;
      },
      120_000,
    );

  /** Until the watcher's pending watch waits on the site for new rows (its heartbeat says so). */
  const watchWaits = (definitionId: string) =>
    until(`the watch of ${definitionId} to wait`, async () => {
      const [pending] = (await watcher(definitionId).describe()).raw.pendingActivities ?? [];
      return (pending?.heartbeatDetails?.payloads?.length ?? 0) > 0;
    });

  const sameRows = async (site: DataConnection, table: string, copied: string, key: string[]) => {
    const described = (await site.describeTable({ name: table }))!;
    const wanted = described.columns.filter((c) => c.name !== 'secret');
    const source = await tableChecksum(site, { name: table }, wanted, key);
    const target = await tableChecksum(
      warehouse,
      { name: copied },
      (await warehouse.describeTable({ name: copied }))!.columns.filter((c) => wanted.some((w) => w.name === c.name)),
      key,
    );
    expect(target).toEqual(source);
    return source.rows;
  };

  /** `n` rows from `from`, three to a timestamp: ties on the cursor straddle batch boundaries. */
  const insertOrders = (from: number, n: number) => {
    const rows = Array.from({ length: n }, (_, i) => {
      const id = from + i;
      const at = new Date(Date.UTC(2026, 0, 1, 0, 0, Math.floor(id / 3))).toISOString().replace('T', ' ').slice(0, 23);
      return [id, at, (id * 1.25).toFixed(2), `order ${id}`, `s${id}`];
    });
    return maria(`INSERT INTO orders (id, updated_at, amount, note, secret) VALUES ?`, [rows]);
  };

  it('delivers a burst in bounded batches, one run each, every row once, ties on the cursor included', async () => {
    await insertOrders(1, 100);
    await publish(
      'orders-mariadb',
      copyOnEvent(
        { cursorColumn: 'updated_at', keyColumns: ['id'], poll: '1s', batchRows: 40, start: 'beginning' },
        { database: 'shop', table: 'orders', keyColumns: ['id'] },
        'orders_copy',
      ),
    );
    const runs = await runsSettled('orders-mariadb', 3);
    expect(runs.every((r) => r.state === 'completed')).toBe(true);
    expect(runs.map((r) => r.rows).sort((a, b) => a - b)).toEqual([20, 40, 40]);
    expect(await sameRows(siteMaria, 'orders', 'orders_copy', ['id'])).toBe(100);
    const st = await status('orders-mariadb');
    expect(st).toMatchObject({ state: 'watching', batches: 3, rows: 100 });
  });

  it('loses and repeats nothing when the agent is stopped and restarted between batches', async () => {
    await agent.close();
    // Written while the site's agent is down: the watch waits in Temporal and resumes from its position.
    await insertOrders(101, 50);
    await startAgent();
    const runs = await runsSettled('orders-mariadb', 5);
    expect(runs.every((r) => r.state === 'completed')).toBe(true);
    expect(runs.reduce((sum, r) => sum + r.rows, 0)).toBe(150);
    expect(await sameRows(siteMaria, 'orders', 'orders_copy', ['id'])).toBe(150);
    expect(await status('orders-mariadb')).toMatchObject({ batches: 5, rows: 150 });
  });

  it('holds new runs while a pause flag applies, and delivers once it is cleared', async () => {
    const flag = await call('POST', `/v1/tenants/${tenantId}/flags`, {
      scope: 'definition',
      targetId: 'orders-mariadb',
      state: 'paused',
      reason: 'site maintenance',
    });
    expect(flag.status).toBe(200);
    await until('the watcher to hold', async () => (await status('orders-mariadb')).state === 'paused');
    // Held: it does not even watch the site (no activity pending), so no batch can start a run.
    await until(
      'the held watcher to have no watch pending',
      async () => ((await watcher('orders-mariadb').describe()).raw.pendingActivities ?? []).length === 0,
    );
    await insertOrders(151, 10);
    expect((await watcher('orders-mariadb').describe()).raw.pendingActivities ?? []).toHaveLength(0);
    expect(await runsOf('orders-mariadb')).toHaveLength(5);
    const cleared = await call('DELETE', `/v1/tenants/${tenantId}/flags`, {
      scope: 'definition',
      targetId: 'orders-mariadb',
    });
    expect(cleared.status).toBe(200);
    const runs = await runsSettled('orders-mariadb', 6);
    expect(runs.reduce((sum, r) => sum + r.rows, 0)).toBe(160);
    expect(await sameRows(siteMaria, 'orders', 'orders_copy', ['id'])).toBe(160);
  });

  it("holds through an emergency stop of the site's connector, then resumes from where it was", async () => {
    const flag = await call('POST', `/v1/tenants/${tenantId}/flags`, {
      scope: 'connector',
      targetId: connectorId,
      state: 'stopped',
      reason: 'incident',
    });
    expect(flag.status).toBe(200);
    await until('the watcher to stop', async () => (await status('orders-mariadb')).state === 'stopped');
    await until(
      'the stopped watcher to have no watch pending',
      async () => ((await watcher('orders-mariadb').describe()).raw.pendingActivities ?? []).length === 0,
    );
    await insertOrders(161, 5);
    expect((await watcher('orders-mariadb').describe()).status.name).toBe('RUNNING');
    expect(await runsOf('orders-mariadb')).toHaveLength(6);
    const cleared = await call('DELETE', `/v1/tenants/${tenantId}/flags`, {
      scope: 'connector',
      targetId: connectorId,
    });
    expect(cleared.status).toBe(200);
    const runs = await runsSettled('orders-mariadb', 7);
    expect(runs.reduce((sum, r) => sum + r.rows, 0)).toBe(165);
    expect(await sameRows(siteMaria, 'orders', 'orders_copy', ['id'])).toBe(165);
  });

  it('keeps its position across a new version: the next rows run on the new version, none again', async () => {
    const v2 = copyOnEvent(
      { cursorColumn: 'updated_at', keyColumns: ['id'], poll: '1s', batchRows: 40, start: 'beginning' },
      { database: 'shop', table: 'orders', keyColumns: ['id'] },
      'orders_copy',
    );
    const added = await call<{ version: { version: number } }>(
      'POST',
      `/v1/tenants/${tenantId}/definitions/orders-mariadb/versions`,
      { document: { ...v2, name: 'orders on event, v2' } },
    );
    expect(added.status).toBe(201);
    const published = await call('POST', `/v1/tenants/${tenantId}/definitions/orders-mariadb/publish`, {
      version: added.body.version.version,
    });
    expect(published.status).toBe(200);
    await until('the watcher to take the new version', async () => (await status('orders-mariadb')).version === 2);
    expect(await status('orders-mariadb')).toMatchObject({ batches: 7, rows: 165 });
    await insertOrders(166, 5);
    const runs = await runsSettled('orders-mariadb', 8);
    expect(runs.reduce((sum, r) => sum + r.rows, 0)).toBe(170);
    expect(await sameRows(siteMaria, 'orders', 'orders_copy', ['id'])).toBe(170);
    const last = await platform.temporal.workflow.getHandle((await status('orders-mariadb')).lastRunId!).describe();
    expect(last.typedSearchAttributes.get(SearchAttribute.DefinitionVersion)).toBe(2);
    // The REST API lists the watcher with its state.
    const listed = await call<{ watcherId: string; state: string; rows: number }[]>(
      'GET',
      `/v1/tenants/${tenantId}/definitions/orders-mariadb/watchers`,
    );
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([
      expect.objectContaining({
        watcherId: siteEventWatcherId(tenantId, 'orders-mariadb', 0),
        state: 'watching',
        rows: 170,
      }),
    ]);
  });

  it('wakes on a PostgreSQL NOTIFY while the poll interval is ten minutes', async () => {
    await publish(
      'events-pg',
      copyOnEvent(
        {
          cursorColumn: 'at',
          keyColumns: ['id'],
          poll: '10m',
          notifyChannel: 'events_new',
          batchRows: 1000,
          start: 'beginning',
        },
        { database: 'events', table: 'events', keyColumns: ['id'] },
        'events_copy',
      ),
    );
    // The agent's watch found nothing and waits (its heartbeat says so), listening: its session's
    // last statement in the server's own view.
    await watchWaits('events-pg');
    const listening = await pg(`SELECT 1 FROM pg_stat_activity WHERE query = 'LISTEN "events_new"'`);
    expect(listening.rowCount).toBe(1);
    await pg(
      `BEGIN; INSERT INTO events SELECT g, '2026-01-01T00:00:00Z'::timestamptz + (g / 2) * interval '1 second', 'k' || g FROM generate_series(1, 7) g; NOTIFY events_new; COMMIT`,
    );
    const runs = await runsSettled('events-pg', 1);
    expect(runs[0]).toMatchObject({ state: 'completed', rows: 7 });
    expect(await status('events-pg')).toMatchObject({ batches: 1, rows: 7, lastWoke: 'notify' });
    const events = await openDataConnection(pgConfig(sitePg.url, sitePg.name));
    try {
      expect(await sameRows(events, 'events', 'events_copy', ['id'])).toBe(7);
    } finally {
      await events.close();
    }
  });

  it('never runs a batch twice: a watcher that reads the same range again starts no second run', async () => {
    // A second watcher of the same trigger from the start (as after a lost position) reads the same batch.
    const version = (
      await call<{ version: number; hash: string; document: DefinitionDocumentInput }>(
        'GET',
        `/v1/tenants/${tenantId}/definitions/events-pg/versions/1`,
      )
    ).body;
    const again = await platform.temporal.workflow.start(siteEventWatcherWorkflow, {
      taskQueue: platform.workflowTaskQueue,
      workflowId: `${siteEventWatcherId(tenantId, 'events-pg', 0)}-again`,
      args: [
        {
          tenantId,
          definitionId: 'events-pg',
          version: version.version,
          hash: version.hash,
          document: DefinitionDocument.parse(version.document),
          trigger: 0,
          cloudTaskQueue: platform.cloudTaskQueue,
        },
      ],
    });
    const st = await until('the second watcher to pass the batch', async () => {
      const s = await again.query(watcherStatusQuery);
      return s.batches === 1 ? s : undefined;
    });
    expect(st.lastRunId).toBe((await status('events-pg')).lastRunId);
    expect(await runsOf('events-pg')).toHaveLength(1);
    await again.terminate('test done');
  });

  it('refuses to watch by a column the site protects, naming the rule (and starts no run)', async () => {
    await publish(
      'orders-secret',
      copyOnEvent(
        { cursorColumn: 'secret', keyColumns: ['id'], poll: '1s', batchRows: 10 },
        { database: 'shop', table: 'orders', keyColumns: ['id'] },
        'orders_secret',
      ),
    );
    const st = await until('the watch to be refused', async () => {
      const s: SiteEventWatcherStatus = await status('orders-secret');
      return s.error ? s : undefined;
    });
    expect(st.error).toMatch(/protects column secret of .*orders.*cursor.*choose another cursorColumn/);
    expect(st.batches).toBe(0);
    expect(await runsOf('orders-secret')).toHaveLength(0);
  });

  /** `n` rows of (id, at) from `from`, one second apart. */
  const insertTimed = (table: string, from: number, n: number) =>
    maria(`INSERT INTO ${table} (id, at) VALUES ?`, [
      Array.from({ length: n }, (_, i) => [
        from + i,
        new Date(Date.UTC(2026, 1, 1, 0, 0, from + i)).toISOString().replace('T', ' ').slice(0, 23),
      ]),
    ]);

  it('a new trigger starts from now by default: rows already in the table are not delivered, later ones are', async () => {
    await maria(`CREATE TABLE arrivals (id INT PRIMARY KEY, at DATETIME(3) NOT NULL)`);
    await insertTimed('arrivals', 1, 20);
    await publish(
      'arrivals-now',
      copyOnEvent(
        { cursorColumn: 'at', keyColumns: ['id'], poll: '1s', batchRows: 100 },
        { database: 'shop', table: 'arrivals', keyColumns: ['id'] },
        'arrivals_copy',
      ),
    );
    await watchWaits('arrivals-now');
    await insertTimed('arrivals', 21, 5);
    const runs = await runsSettled('arrivals-now', 1);
    expect(runs[0]).toMatchObject({ state: 'completed', rows: 5 });
    expect(await warehouse.countRows({ name: 'arrivals_copy' })).toBe(5);
    expect(await status('arrivals-now')).toMatchObject({ batches: 1, rows: 5 });
  });

  it('runs the batches of one trigger in turn: a run starts once the previous one ended', async () => {
    await maria(`CREATE TABLE tickets (id INT PRIMARY KEY, at DATETIME(3) NOT NULL)`);
    await insertTimed('tickets', 1, 30);
    const doc = copyOnEvent(
      { cursorColumn: 'at', keyColumns: ['id'], poll: '1s', batchRows: 10, start: 'beginning' },
      { database: 'shop', table: 'tickets', keyColumns: ['id'] },
      'tickets_copy',
    );
    // Each run lingers after its load: were runs allowed to overlap, the next batches would start meanwhile.
    doc.steps.push({ id: 'linger', kind: 'wait', duration: '2s' });
    doc.edges.push({ from: 'load', to: 'linger' });
    await publish('tickets-in-turn', doc);
    const runs = await runsSettled('tickets-in-turn', 3);
    expect(runs.map((r) => r.rows)).toEqual([10, 10, 10]);
    const spans = await Promise.all(
      runs.map(async (r) => {
        const d = await platform.temporal.workflow.getHandle(r.id).describe();
        return { start: d.startTime.getTime(), end: d.closeTime!.getTime() };
      }),
    );
    spans.sort((a, b) => a.start - b.start);
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.start).toBeGreaterThanOrEqual(spans[i - 1]!.end);
    expect(await sameRows(siteMaria, 'tickets', 'tickets_copy', ['id'])).toBe(30);
  });

  it('ends the watchers of an archived definition; runs already started stay', async () => {
    if (record) {
      const [run] = await runsOf('events-pg');
      await saveHistory(platform, 'definition-site-event-run', run!.id);
    }
    for (const id of ['orders-mariadb', 'events-pg', 'orders-secret', 'arrivals-now', 'tickets-in-turn']) {
      const archived = await call('POST', `/v1/tenants/${tenantId}/definitions/${id}/archive`);
      expect(archived.status).toBe(200);
      await until(`the watcher of ${id} to end`, async () => (await watcher(id).describe()).status.name !== 'RUNNING');
    }
    if (record) {
      // The watcher's first run: batches, the agent's restart, a pause and its release, a new version.
      const id = watcher('orders-mariadb').workflowId;
      for await (const run of platform.temporal.workflow.list({ query: `WorkflowId = '${id}'` }))
        if (run.status.name === 'CONTINUED_AS_NEW')
          await saveHistory(platform, 'site-event-watcher-in-turn', id, run.runId);
      // A watcher that started from now (its anchor), delivered a batch, and was ended by the archive.
      await saveHistory(platform, 'site-event-watcher-start-now', watcher('arrivals-now').workflowId);
    }
    expect(await runsOf('orders-mariadb')).toHaveLength(8);
  });

  it('copies each batch to a database of the same site (a pair that would otherwise fuse into one transfer)', async () => {
    const doc = copyOnEvent(
      { cursorColumn: 'updated_at', keyColumns: ['id'], poll: '1s', batchRows: 1000, start: 'beginning' },
      { database: 'shop', table: 'orders', keyColumns: ['id'] },
      'unused',
    );
    doc.steps[1] = {
      id: 'load',
      kind: 'destination',
      db: {
        endpoint: { kind: 'site-db', connectorId, database: 'events' },
        table: { name: 'orders_site' },
        keyColumns: ['id'],
        createIfMissing: true,
      },
    };
    await publish('orders-site-copy', doc);
    const site = await openDataConnection(pgConfig(sitePg.url, sitePg.name));
    try {
      // Every row the watched table holds reaches the site's other database, as the batches said.
      const copied = await until(
        'the batches copied to the site database',
        async () => {
          if (!(await site.tableExists({ name: 'orders_site' }))) return undefined;
          const [n, total] = await Promise.all([
            site.countRows({ name: 'orders_site' }),
            siteMaria.countRows({ name: 'orders' }),
          ]);
          return n === total && n > 0 ? n : undefined;
        },
        120_000,
      );
      const described = (await siteMaria.describeTable({ name: 'orders' }))!;
      const wanted = described.columns.filter((c) => c.name !== 'secret');
      const source = await tableChecksum(siteMaria, { name: 'orders' }, wanted, ['id']);
      const target = await tableChecksum(
        site,
        { name: 'orders_site' },
        (await site.describeTable({ name: 'orders_site' }))!.columns.filter((c) =>
          wanted.some((w) => w.name === c.name),
        ),
        ['id'],
      );
      expect(target).toEqual(source);
      expect(target.rows).toBe(copied);
    } finally {
      await site.close();
    }
  });
});
