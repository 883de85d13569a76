import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError, type WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { createConnection } from 'mysql2/promise';
import { openDataConnection, tableChecksum, type DataConnection } from '@vansales/dataflow';
import { PAGILA_TABLES, SAKILA_TABLES, throwawayPostgresDatabase } from '@vansales/test-kit';
import {
  dataSyncWorkflow,
  extractStepWorkflow,
  loadStepWorkflow,
  type DataSyncInput,
  type ExtractStepInput,
  type LoadStepInput,
  type SyncState,
} from '@vansales/workflows';
import {
  sakilaReader,
  services,
  startPlatform,
  type Platform,
  pgConfig,
  mariaConfig,
  failureText,
} from './support/harness';

/** Row-for-row equality: counts and checksums of normalised values, table by table. */
async function compareTables(
  source: DataConnection,
  destination: DataConnection,
  tables: string[],
  destName: (t: string) => string = (t) => t,
) {
  const result: Record<
    string,
    { source: { rows: number; sha256: string }; destination: { rows: number; sha256: string } }
  > = {};
  for (const t of tables) {
    const described = (await source.describeTable({ name: t }))!;
    const destDescribed = (await destination.describeTable({ name: destName(t) }))!;
    expect(destDescribed).toBeDefined();
    const keys = described.primaryKey;
    result[t] = {
      source: await tableChecksum(source, { name: t }, described.columns, keys),
      destination: await tableChecksum(
        destination,
        { name: destName(t) },
        destDescribed.columns.filter((c) => described.columns.some((s) => s.name === c.name)),
        keys,
      ),
    };
  }
  return result;
}

describe('data plane through agents, gateway buffer and cloud workers (real services)', () => {
  let platform: Platform;
  let tenantId: string;
  const dir = mkdtempSync(join(tmpdir(), 'vsc-dataplane-'));
  const dropMaria: string[] = [];
  const dropPg: (() => Promise<void>)[] = [];

  const connector = async (name: string, tenant = tenantId) =>
    (await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenant}/connectors`, { name })).body;
  const policy = (name: string, body: unknown) => {
    const path = join(dir, `${name}.json`);
    writeFileSync(path, JSON.stringify(body));
    return path;
  };
  const run = <W extends Workflow>(workflow: W, input: Parameters<W>[0]) =>
    platform.temporal.workflow.execute(workflow, {
      taskQueue: platform.workflowTaskQueue,
      workflowId: `${workflow.name}-${randomBytes(4).toString('hex')}`,
      args: [input],
    } as unknown as WorkflowStartOptions<W>);
  const mariaDatabase = async () => {
    const name = `vsc_dp_${randomBytes(4).toString('hex')}`;
    const conn = await createConnection(services.mariadb);
    await conn.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
    await conn.end();
    dropMaria.push(name);
    return name;
  };
  const pgDatabase = async () => {
    const db = await throwawayPostgresDatabase('vsc_dp');
    dropPg.push(db.drop);
    return db;
  };

  beforeAll(async () => {
    platform = await startPlatform();
    tenantId = `dp${randomBytes(3).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Data plane' });
  });
  afterAll(async () => {
    await platform?.close();
    const conn = await createConnection(services.mariadb);
    for (const name of dropMaria) await conn.query(`DROP DATABASE IF EXISTS ${name}`);
    await conn.end();
    for (const drop of dropPg) await drop();
  });

  it('copies Sakila (MariaDB) into PostgreSQL through the buffer between two agents, row for row', async () => {
    const reader = await sakilaReader();
    const site = await connector('sakila-site');
    const dw = await connector('pg-warehouse');
    const pg = await pgDatabase();
    const a = platform.startAgent({
      apiKey: site.apiKey,
      databases: { sakila: { dialect: 'mysql', ...services.mariadb, ...reader, database: 'sakila' } },
    });
    const b = platform.startAgent({
      apiKey: dw.apiKey,
      databases: { dw: { ...pgConfig(pg.url, pg.name) } },
      policyFile: policy('dw-policy', { writableTables: [{ database: 'dw', table: '*' }] }),
    });
    await Promise.all([a.welcomed, b.welcomed]);

    const input: DataSyncInput = {
      tenantId,
      source: { placement: 'connector', connectorId: site.id, database: 'sakila' },
      destination: { placement: 'connector', connectorId: dw.id, database: 'dw' },
      tables: SAKILA_TABLES.map((name) => ({ source: { name } })),
      chunkRows: 5000,
    };
    const state = await run(dataSyncWorkflow, input);
    expect(state.runsDone).toBe(1);
    expect(state.tables.rental!.rowsCopied).toBe(16044);

    const source = await openDataConnection(mariaConfig('sakila'));
    const destination = await openDataConnection(pgConfig(pg.url, pg.name));
    try {
      const compared = await compareTables(source, destination, SAKILA_TABLES);
      for (const [table, c] of Object.entries(compared)) {
        expect({ table, ...c.destination }).toEqual({ table, ...c.source });
      }
      expect(compared.payment!.source.rows).toBe(16049);
    } finally {
      await Promise.all([source.close(), destination.close()]);
    }
  });

  it('copies Pagila (PostgreSQL) into MariaDB on one site with a transfer (nothing leaves the site), row for row', async () => {
    const site = await connector('pagila-site');
    const target = await mariaDatabase();
    const agent = platform.startAgent({
      apiKey: site.apiKey,
      databases: { pagila: pgConfig(services.postgresUrl('pagila'), 'pagila'), mart: mariaConfig(target) },
      policyFile: policy('mart-policy', { writableTables: [{ database: 'mart', table: '*' }] }),
    });
    await agent.welcomed;
    const framesBefore = platform.frames.length;
    const state = await run(dataSyncWorkflow, {
      tenantId,
      source: { placement: 'connector', connectorId: site.id, database: 'pagila' },
      destination: { placement: 'connector', connectorId: site.id, database: 'mart' },
      tables: PAGILA_TABLES.map((name) => ({ source: { schema: 'public', name }, destination: { name } })),
    } satisfies DataSyncInput);
    expect(state.tables['public.rental']!.rowsCopied).toBe(16044);
    // No row crossed the socket: only task, heartbeat and result frames, each small.
    const frames = platform.frames.slice(framesBefore);
    expect(frames.every((f) => f.length < 64 * 1024)).toBe(true);
    const leaked = frames.filter((f) => f.includes('MARY.SMITH@sakilacustomer.org'));
    expect(leaked.map((f) => f.slice(0, 300))).toEqual([]);

    const source = await openDataConnection(pgConfig(services.postgresUrl('pagila'), 'pagila'));
    const destination = await openDataConnection(mariaConfig(target));
    try {
      for (const t of PAGILA_TABLES) {
        const described = (await source.describeTable({ schema: 'public', name: t }))!;
        const there = (await destination.describeTable({ name: t }))!;
        const s = await tableChecksum(source, { schema: 'public', name: t }, described.columns, described.primaryKey);
        const d = await tableChecksum(destination, { name: t }, there.columns, described.primaryKey);
        expect({ t, ...d }).toEqual({ t, ...s });
      }
    } finally {
      await Promise.all([source.close(), destination.close()]);
    }
  });

  it('refuses a load into a table the site policy does not list, naming the policy, and writes nothing', async () => {
    const site = await connector('strict-site');
    const target = await mariaDatabase();
    const policyPath = policy('strict-policy', { writableTables: [{ database: 'mart', table: 'allowed_only' }] });
    const reader = await sakilaReader();
    const agent = platform.startAgent({
      apiKey: site.apiKey,
      databases: { sakila: { ...mariaConfig('sakila'), ...reader }, mart: mariaConfig(target) },
      policyFile: policyPath,
    });
    await agent.welcomed;
    const extracted = await run(extractStepWorkflow, {
      tenantId,
      source: { placement: 'connector', connectorId: site.id, database: 'sakila' },
      table: { name: 'actor' },
    } satisfies ExtractStepInput);
    expect(extracted.rowCount).toBe(200);
    const err = await run(loadStepWorkflow, {
      tenantId,
      destination: { placement: 'connector', connectorId: site.id, database: 'mart' },
      table: { name: 'actor' },
      keyColumns: ['actor_id'],
      objectId: extracted.objectId,
    } satisfies LoadStepInput).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const text = failureText(err);
    expect(text).toContain('PolicyRefused');
    expect(text).toContain(policyPath);
    expect(text).toContain('mart.actor');
    const conn = await createConnection({ ...services.mariadb, database: target });
    const [rows] = await conn.query('SHOW TABLES');
    await conn.end();
    expect(rows).toEqual([]);
  });

  it('drops and masks columns the site policy names before rows leave the site', async () => {
    const site = await connector('masking-site');
    const pg = await pgDatabase();
    const reader = await sakilaReader();
    const agent = platform.startAgent({
      apiKey: site.apiKey,
      databases: { sakila: { ...mariaConfig('sakila'), ...reader }, dw: pgConfig(pg.url, pg.name) },
      policyFile: policy('mask-policy', {
        writableTables: [{ database: 'dw', table: '*' }],
        columns: [
          { database: 'sakila', table: 'customer', column: 'email', action: 'mask' },
          { database: 'sakila', table: 'customer', column: 'last_name', action: 'hash' },
          { database: 'sakila', table: 'customer', column: 'address_id', action: 'drop' },
        ],
        hashSalt: 'this-site-keeps-its-own-salt',
      }),
    });
    await agent.welcomed;
    const extracted = await run(extractStepWorkflow, {
      tenantId,
      source: { placement: 'connector', connectorId: site.id, database: 'sakila' },
      table: { name: 'customer' },
    } satisfies ExtractStepInput);
    // The buffer holds no plaintext email (it is encrypted at rest anyway; the mask applies before upload).
    const loaded = await run(loadStepWorkflow, {
      tenantId,
      destination: { placement: 'connector', connectorId: site.id, database: 'dw' },
      table: { name: 'customer' },
      keyColumns: ['customer_id'],
      objectId: extracted.objectId,
    } satisfies LoadStepInput);
    expect(loaded.rowCount).toBe(599);
    const dw = await openDataConnection(pgConfig(pg.url, pg.name));
    try {
      const described = (await dw.describeTable({ name: 'customer' }))!;
      expect(described.columns.map((c) => c.name)).not.toContain('address_id');
      const rows: unknown[][] = [];
      for await (const batch of dw.readRows(
        { kind: 'query', sql: 'SELECT email, last_name, first_name FROM customer ORDER BY customer_id' },
        { batchSize: 1000 },
      ))
        rows.push(...batch);
      expect(rows).toHaveLength(599);
      expect(rows.every((r) => r[0] === '****')).toBe(true);
      expect(rows.every((r) => typeof r[1] === 'string' && /^[0-9a-f]{64}$/.test(r[1] as string))).toBe(true);
      expect(rows[0]![2]).toBe('MARY');
    } finally {
      await dw.close();
    }
    // A query extract cannot dodge the masks.
    const refused = await run(extractStepWorkflow, {
      tenantId,
      source: { placement: 'connector', connectorId: site.id, database: 'sakila' },
      sql: 'SELECT email FROM customer',
    } satisfies ExtractStepInput).catch((e: unknown) => e);
    expect(failureText(refused)).toContain('PolicyRefused');
  });

  it("refuses another tenant's buffer object and a tampered one, with clear errors", async () => {
    const site = await connector('owner-site');
    const pg = await pgDatabase();
    const reader = await sakilaReader();
    const ownerAgent = platform.startAgent({
      apiKey: site.apiKey,
      databases: { sakila: { ...mariaConfig('sakila'), ...reader }, dw: pgConfig(pg.url, pg.name) },
      policyFile: policy('owner-policy', { writableTables: [{ database: 'dw', table: '*' }] }),
    });
    await ownerAgent.welcomed;
    const extracted = await run(extractStepWorkflow, {
      tenantId,
      source: { placement: 'connector', connectorId: site.id, database: 'sakila' },
      table: { name: 'film' },
      chunkRows: 300,
    } satisfies ExtractStepInput);
    expect(extracted.chunkCount).toBe(4);

    // Another tenant, with its own connector and a permissive policy, names the object.
    const other = `ot${randomBytes(3).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: other, name: 'Other' });
    const intruder = await connector('intruder', other);
    const pg2 = await pgDatabase();
    const intruderAgent = platform.startAgent({
      apiKey: intruder.apiKey,
      databases: { dw: pgConfig(pg2.url, pg2.name) },
      policyFile: policy('intruder-policy', { writableTables: [{ database: 'dw', table: '*' }] }),
    });
    await intruderAgent.welcomed;
    const stolen = await run(loadStepWorkflow, {
      tenantId: other,
      destination: { placement: 'connector', connectorId: intruder.id, database: 'dw' },
      table: { name: 'film' },
      keyColumns: ['film_id'],
      objectId: extracted.objectId,
    } satisfies LoadStepInput).catch((e: unknown) => e);
    expect(failureText(stolen)).toMatch(/BufferRefused/);
    expect(failureText(stolen)).toMatch(/40[34]/);

    // Flip one byte of one stored chunk: the load is refused, nothing half-loaded from it.
    const chunkFiles: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d)) {
        const p = join(d, e);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.includes(extracted.objectId) && /chunk/.test(e)) chunkFiles.push(p);
      }
    };
    walk(platform.bufferDir);
    expect(chunkFiles.length).toBe(4);
    const victim = chunkFiles.sort()[2]!;
    const bytes = readFileSync(victim);
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0x01;
    writeFileSync(victim, bytes);
    const tampered = await run(loadStepWorkflow, {
      tenantId,
      destination: { placement: 'connector', connectorId: site.id, database: 'dw' },
      table: { name: 'film' },
      keyColumns: ['film_id'],
      objectId: extracted.objectId,
    } satisfies LoadStepInput).catch((e: unknown) => e);
    expect(failureText(tampered)).toMatch(/BufferRefused/);
    expect(failureText(tampered)).toMatch(/tamper/i);
  });

  it('leaves a destination that fails mid-load consistent, names table and column, and resumes after the fix', async () => {
    const site = await connector('failing-site');
    const pg = await pgDatabase();
    const reader = await sakilaReader();
    const agent = platform.startAgent({
      apiKey: site.apiKey,
      databases: { sakila: { ...mariaConfig('sakila'), ...reader }, dw: pgConfig(pg.url, pg.name) },
      policyFile: policy('failing-policy', { writableTables: [{ database: 'dw', table: '*' }] }),
    });
    await agent.welcomed;
    // The destination exists with a title column too short for some titles (the longest is 27 characters).
    const { Client } = await import('pg');
    const admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query('CREATE TABLE film_short (film_id integer PRIMARY KEY, title varchar(20) NOT NULL)');
    const extracted = await run(extractStepWorkflow, {
      tenantId,
      source: { placement: 'connector', connectorId: site.id, database: 'sakila' },
      table: { name: 'film' },
      columns: ['film_id', 'title'],
      chunkRows: 100,
    } satisfies ExtractStepInput);
    expect(extracted.chunkCount).toBe(10);
    const load: LoadStepInput = {
      tenantId,
      destination: { placement: 'connector', connectorId: site.id, database: 'dw' },
      table: { name: 'film_short' },
      keyColumns: ['film_id'],
      objectId: extracted.objectId,
    };
    const failed = await run(loadStepWorkflow, load).catch((e: unknown) => e);
    const text = failureText(failed);
    expect(text).toContain('WriteFailed');
    expect(text).toContain('film_short');
    expect(text).toContain('title');
    // Each chunk is one transaction: what is there is whole chunks, never a part of one.
    const partial = Number((await admin.query('SELECT count(*) AS n FROM film_short')).rows[0].n);
    expect(partial % 100).toBe(0);
    expect(partial).toBeLessThan(1000);
    // The site widens the column; the same object loads completely (upserts: no duplicates).
    await admin.query('ALTER TABLE film_short ALTER COLUMN title TYPE varchar(64)');
    const loaded = await run(loadStepWorkflow, load);
    expect(loaded.rowCount).toBe(1000);
    expect(
      Number((await admin.query('SELECT count(*) AS n, count(DISTINCT film_id) AS d FROM film_short')).rows[0].d),
    ).toBe(1000);
    expect(Number((await admin.query('SELECT count(*) AS n FROM film_short')).rows[0].n)).toBe(1000);
    await admin.end();
  });

  it('names table and column of a type that cannot be mapped', async () => {
    const site = await connector('geo-site');
    const source = await mariaDatabase();
    const pg = await pgDatabase();
    const conn = await createConnection({ ...services.mariadb, database: source });
    await conn.query('CREATE TABLE places (id INT PRIMARY KEY, name VARCHAR(20), location POINT)');
    await conn.query("INSERT INTO places VALUES (1, 'here', POINT(1, 2))");
    await conn.end();
    const agent = platform.startAgent({
      apiKey: site.apiKey,
      databases: { geo: mariaConfig(source), dw: pgConfig(pg.url, pg.name) },
      policyFile: policy('geo-policy', { writableTables: [{ database: 'dw', table: '*' }] }),
    });
    await agent.welcomed;
    const err = await run(dataSyncWorkflow, {
      tenantId,
      source: { placement: 'connector', connectorId: site.id, database: 'geo' },
      destination: { placement: 'connector', connectorId: site.id, database: 'dw' },
      tables: [{ source: { name: 'places' } }],
    } satisfies DataSyncInput).catch((e: unknown) => e);
    const text = failureText(err);
    expect(text).toContain('UnmappableType');
    expect(text).toContain('places');
    expect(text).toContain('location');
  });

  it('refuses free-form SQL on a database whose columns the site protects', async () => {
    const site = await connector('guarded-site');
    const reader = await sakilaReader();
    const agent = platform.startAgent({
      apiKey: site.apiKey,
      databases: { sakila: { ...mariaConfig('sakila'), ...reader } },
      policyFile: policy('guarded-policy', {
        columns: [{ database: 'sakila', table: 'customer', column: 'email', action: 'mask' }],
      }),
    });
    await agent.welcomed;
    const res = await platform.api<{ error: { message: string } }>('POST', `/v1/tenants/${tenantId}/queries`, {
      connectorId: site.id,
      database: 'sakila',
      sql: 'SELECT email FROM customer LIMIT 1',
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(res.body)).toContain('PolicyRefused');
  });

  it('starts, watches and re-runs a sync through the REST API, for its own tenant only', async () => {
    const reader = await sakilaReader();
    const site = await connector('rest-site');
    const pg = await pgDatabase();
    const agent = platform.startAgent({
      apiKey: site.apiKey,
      databases: { sakila: { ...mariaConfig('sakila'), ...reader }, dw: pgConfig(pg.url, pg.name) },
      policyFile: policy('rest-policy', { writableTables: [{ database: 'dw', table: '*' }] }),
    });
    await agent.welcomed;
    const started = await platform.api<{ workflowId: string }>('POST', `/v1/tenants/${tenantId}/syncs`, {
      source: { placement: 'connector', connectorId: site.id, database: 'sakila' },
      destination: { placement: 'connector', connectorId: site.id, database: 'dw' },
      tables: [{ source: { name: 'actor' }, cursorColumn: 'last_update' }],
      intervalSeconds: 3600,
      maxRuns: 2,
    });
    expect(started.status).toBe(202);
    const id = started.body.workflowId;
    const status = async () =>
      (await platform.api<{ status: string; state: SyncState | null }>('GET', `/v1/tenants/${tenantId}/syncs/${id}`))
        .body;
    let s = await status();
    for (let i = 0; i < 200 && (s.state?.runsDone ?? 0) < 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      s = await status();
    }
    expect(s.status).toBe('RUNNING');
    expect(s.state?.tables.actor?.rowsCopied).toBe(200);
    expect((await platform.api('POST', `/v1/tenants/${tenantId}/syncs/${id}/run-now`)).status).toBe(200);
    const final = (await platform.temporal.workflow.getHandle(id).result()) as SyncState;
    expect(final.runsDone).toBe(2);
    expect(final.tables.actor!.lastRunRows).toBe(0);
    expect((await status()).status).toBe('COMPLETED');

    // Another tenant sees nothing of it, and cannot point a sync at this tenant's connector.
    const other = `rs${randomBytes(3).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: other, name: 'Other' });
    expect((await platform.api('GET', `/v1/tenants/${other}/syncs/${id}`)).status).toBe(404);
    expect((await platform.api('POST', `/v1/tenants/${other}/syncs/${id}/run-now`)).status).toBe(404);
    const foreign = await platform.api('POST', `/v1/tenants/${other}/syncs`, {
      source: { placement: 'connector', connectorId: site.id, database: 'sakila' },
      destination: { placement: 'cloud', database: 'dw' },
      tables: [{ source: { name: 'actor' } }],
    });
    expect(foreign.status).toBe(404);
    // Bad bodies get a clear 400.
    const bad = await platform.api<{ error: { message: string } }>('POST', `/v1/tenants/${tenantId}/syncs`, {
      source: { placement: 'moon' },
      tables: [],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/source|tables|destination/);
  });

  it('extracts and loads cloud-side for databases the cloud reaches', async () => {
    const cloudSource = await pgDatabase();
    const cloudTarget = await pgDatabase();
    // Fill the cloud source from Pagila's actor table through the agent-free path.
    const pagila = await openDataConnection(pgConfig(services.postgresUrl('pagila'), 'pagila'));
    const src = await openDataConnection(pgConfig(cloudSource.url, cloudSource.name));
    try {
      const described = (await pagila.describeTable({ schema: 'public', name: 'actor' }))!;
      await src.createTable({ name: 'actor' }, described.columns, described.primaryKey);
      for await (const batch of pagila.readRows(
        { kind: 'table', table: { schema: 'public', name: 'actor' }, orderBy: ['actor_id'] },
        { batchSize: 1000 },
      )) {
        await src.writeRows({ name: 'actor' }, described.columns, batch, { mode: 'insert', keyColumns: ['actor_id'] });
      }
    } finally {
      await Promise.all([pagila.close(), src.close()]);
    }
    platform.setCloudDatabases({
      [tenantId]: {
        lake: pgConfig(cloudSource.url, cloudSource.name),
        dw: pgConfig(cloudTarget.url, cloudTarget.name),
      },
    });
    const state = await run(dataSyncWorkflow, {
      tenantId,
      source: { placement: 'cloud', database: 'lake' },
      destination: { placement: 'cloud', database: 'dw' },
      tables: [{ source: { name: 'actor' }, cursorColumn: 'last_update' }],
      cloudTaskQueue: platform.cloudTaskQueue,
    } satisfies DataSyncInput);
    expect(state.tables.actor!.rowsCopied).toBe(200);
    expect(state.tables.actor!.cursor).toBeDefined();
    const a = await openDataConnection(pgConfig(cloudSource.url, cloudSource.name));
    const b = await openDataConnection(pgConfig(cloudTarget.url, cloudTarget.name));
    try {
      const compared = await compareTables(a, b, ['actor']);
      expect(compared.actor!.destination).toEqual(compared.actor!.source);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    // Long syncs continue as new: the cursor and counts ride along to the next run of the chain.
    const chained = await platform.temporal.workflow.start(dataSyncWorkflow, {
      taskQueue: platform.workflowTaskQueue,
      workflowId: `chain-${randomBytes(4).toString('hex')}`,
      args: [
        {
          tenantId,
          source: { placement: 'cloud', database: 'lake' },
          destination: { placement: 'cloud', database: 'dw' },
          tables: [{ source: { name: 'actor' }, destination: { name: 'actor_chain' }, cursorColumn: 'last_update' }],
          cloudTaskQueue: platform.cloudTaskQueue,
          maxRuns: 3,
          runsPerExecution: 1,
        } satisfies DataSyncInput,
      ],
    });
    const chainState = (await chained.result()) as SyncState;
    expect(chainState.runsDone).toBe(3);
    expect(chainState.tables.actor!.rowsCopied).toBe(200);
    expect(chainState.tables.actor!.lastRunRows).toBe(0);
    expect(chainState.tables.actor!.cursor).toEqual(state.tables.actor!.cursor);
    const latest = await platform.temporal.workflow.getHandle(chained.workflowId).describe();
    expect(latest.runId).not.toBe(chained.firstExecutionRunId);

    // Another tenant cannot name this tenant's cloud databases.
    const err = await run(extractStepWorkflow, {
      tenantId: 'someoneelse',
      source: { placement: 'cloud', database: 'lake' },
      table: { name: 'actor' },
      cloudTaskQueue: platform.cloudTaskQueue,
    } satisfies ExtractStepInput).catch((e: unknown) => e);
    expect(failureText(err)).toContain('UnknownDatabase');
  });
});
