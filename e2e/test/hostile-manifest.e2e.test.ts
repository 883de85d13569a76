import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError, type WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import { encodeChunk, type DataConnectionConfig } from '@vansales/dataflow';
import { hostileManifests, throwawayPostgresDatabase } from '@vansales/test-kit';
import { loadStepWorkflow, type LoadStepInput } from '@vansales/workflows';
import { services, startPlatform, type Platform, failureText } from './support/harness';

/*
 * Issue 9, item 2: a buffer manifest is written by whichever agent extracted the object, so the
 * site agent's load and the cloud's load both treat it as hostile. Objects are committed straight
 * into the gateway's buffer here, as a hostile extracting agent would, and loaded through the real
 * load step (agent: dataLoad over the gateway; cloud: cloudLoad) into PostgreSQL and MariaDB.
 */

describe('loads refuse what another site wrote (agent and cloud, PostgreSQL and MariaDB)', () => {
  let platform: Platform;
  let tenantId: string;
  let connectorId: string;
  let pg: Awaited<ReturnType<typeof throwawayPostgresDatabase>>;
  const maria = `vsc_hm_${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'vsc-hostile-'));

  const pgConfig = (): DataConnectionConfig => {
    const u = new URL(pg.url);
    return {
      dialect: 'postgres',
      host: u.hostname,
      port: Number(u.port),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: pg.name,
    };
  };
  const mariaConfig = (): DataConnectionConfig => ({ dialect: 'mysql', ...services.mariadb, database: maria });

  /** Every table of the database and the sentinel's rows: nothing created, nothing dropped. */
  async function pgState(): Promise<{ tables: string[]; payroll: string[] }> {
    const c = new Client({ connectionString: pg.url });
    await c.connect();
    try {
      const tables = await c.query<{ t: string }>(
        "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
      );
      const rows = tables.rows.some((r) => r.t === 'payroll')
        ? (await c.query<{ r: string }>("SELECT id || ':' || salary AS r FROM public.payroll ORDER BY id")).rows
        : [];
      return { tables: tables.rows.map((r) => r.t), payroll: rows.map((r) => r.r) };
    } finally {
      await c.end();
    }
  }
  async function mariaState(): Promise<{ tables: string[]; payroll: string[] }> {
    const c = await createConnection({ ...services.mariadb, database: maria });
    try {
      const [tables] = (await c.query(
        'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1',
      )) as unknown as [{ t: string }[]];
      const [rows] = tables.some((r) => r.t === 'payroll')
        ? ((await c.query("SELECT CONCAT(id, ':', salary) AS r FROM payroll ORDER BY id")) as unknown as [
            { r: string }[],
          ])
        : [[]];
      return { tables: tables.map((r) => r.t), payroll: rows.map((r) => r.r) };
    } finally {
      await c.end();
    }
  }
  const INTACT = { tables: ['payroll'], payroll: ['1:1000.00', '2:2000.00'] };

  const run = <W extends Workflow>(workflow: W, input: Parameters<W>[0]) =>
    platform.temporal.workflow.execute(workflow, {
      taskQueue: platform.workflowTaskQueue,
      workflowId: `${workflow.name}-${randomBytes(4).toString('hex')}`,
      args: [input],
    } as unknown as WorkflowStartOptions<W>);

  /** Commits an object into the buffer as an extracting agent would, manifest and all. */
  async function commitObject(schema: unknown, chunks: unknown[][][] = []): Promise<string> {
    const { objectId } = await platform.gateway.buffer.createObject(tenantId);
    for (const [i, rows] of chunks.entries())
      await platform.gateway.buffer.writeChunk(tenantId, objectId, i, await encodeChunk(rows), rows.length);
    const rowCount = chunks.reduce((n, rows) => n + rows.length, 0);
    await platform.gateway.buffer.commit(tenantId, objectId, { schema, chunkCount: chunks.length, rowCount });
    return objectId;
  }

  beforeAll(async () => {
    platform = await startPlatform();
    tenantId = `hm${randomBytes(3).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Hostile manifests' });
    const site = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, {
        name: 'loading-site',
      })
    ).body;
    connectorId = site.id;
    pg = await throwawayPostgresDatabase('vsc_hm');
    const c = new Client({ connectionString: pg.url });
    await c.connect();
    await c.query('CREATE TABLE public.payroll (id int PRIMARY KEY, salary numeric(10,2))');
    await c.query('INSERT INTO public.payroll VALUES (1, 1000.00), (2, 2000.00)');
    await c.end();
    const m = await createConnection(services.mariadb);
    await m.query(`CREATE DATABASE ${maria} CHARACTER SET utf8mb4`);
    await m.query(`CREATE TABLE ${maria}.payroll (id INT PRIMARY KEY, salary DECIMAL(10,2))`);
    await m.query(`INSERT INTO ${maria}.payroll VALUES (1, 1000.00), (2, 2000.00)`);
    await m.end();
    const policyFile = join(dir, 'policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify({
        writableTables: [
          { database: 'dw', table: '*' },
          { database: 'mart', table: '*' },
        ],
      }),
    );
    const agent = platform.startAgent({
      apiKey: site.apiKey,
      databases: { dw: pgConfig(), mart: mariaConfig() },
      policyFile,
    });
    await agent.welcomed;
    platform.setCloudDatabases({ [tenantId]: { dw: pgConfig(), mart: mariaConfig() } });
  });
  afterAll(async () => {
    await platform?.close();
    const m = await createConnection(services.mariadb);
    await m.query(`DROP DATABASE IF EXISTS ${maria}`);
    await m.end();
    await pg?.drop();
  });

  const destinations = [
    ['the agent', 'PostgreSQL', 'dw'],
    ['the agent', 'MariaDB', 'mart'],
    ['the cloud', 'PostgreSQL', 'dw'],
    ['the cloud', 'MariaDB', 'mart'],
  ] as const;
  const load = (where: (typeof destinations)[number][0], database: string, objectId: string, table = 'incoming') =>
    run(loadStepWorkflow, {
      tenantId,
      destination:
        where === 'the agent' ? { placement: 'connector', connectorId, database } : { placement: 'cloud', database },
      table: { name: table },
      keyColumns: ['id'],
      objectId,
      createIfMissing: true,
      cloudTaskQueue: platform.cloudTaskQueue,
    } satisfies LoadStepInput);
  const state = (database: string) => (database === 'dw' ? pgState() : mariaState());

  // The finding's payload and one of each family (charset, collation, unknown kind, oversize); the
  // dataflow integration test runs the whole corpus against loadObject, which both loads share.
  const cases = hostileManifests().filter((c) =>
    [
      'a DROP TABLE in a PostgreSQL type name',
      'a CREATE ... SELECT in a MySQL charset',
      'a quote in a MySQL collation',
      'an unknown type kind',
      'a very long type name',
    ].includes(c.name),
  );

  it.each(destinations.flatMap(([who, dialect, db]) => cases.map((c) => [who, dialect, c.name, db, c] as const)))(
    '%s refuses a %s load of a manifest with %s',
    async (who, _dialect, _name, database, hostile) => {
      const objectId = await commitObject(hostile.schema);
      const err = await load(who, database, objectId).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const text = failureText(err);
      expect(text).toContain(`buffer object ${objectId} has an unusable schema`);
      expect(text).toContain(hostile.names);
      expect(await state(database)).toEqual(INTACT);
    },
  );

  it.each(destinations)(
    '%s refuses a %s chunk that contradicts its manifest, writing nothing of it',
    async (who, _d, database) => {
      const schema = {
        columns: [
          { name: 'id', type: { kind: 'integer', bits: 32 }, nullable: false, nativeType: 'integer' },
          { name: 'amount', type: { kind: 'decimal', precision: 10, scale: 2 }, nullable: true, nativeType: 'numeric' },
        ],
        keyColumns: ['id'],
      };
      const objectId = await commitObject(schema, [
        [
          [1, '1.50'],
          [2, '0); DROP TABLE payroll; --'],
        ],
      ]);
      const table = `values_${randomBytes(3).toString('hex')}`;
      const err = await load(who, database, objectId, table).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const text = failureText(err);
      expect(text).toContain(`chunk 0 of buffer object ${objectId} contradicts its manifest at row 2, column amount`);
      expect(text).toContain('is not a decimal');
      const after = await state(database);
      expect(after.payroll).toEqual(INTACT.payroll);
      // The table was created for the load, but no row of the refused chunk is in it.
      const rows =
        database === 'dw'
          ? await (async () => {
              const c = new Client({ connectionString: pg.url });
              await c.connect();
              try {
                return (await c.query(`SELECT count(*)::int AS n FROM public.${table}`)).rows[0].n as number;
              } finally {
                await c.end();
              }
            })()
          : await (async () => {
              const c = await createConnection({ ...services.mariadb, database: maria });
              try {
                const [r] = (await c.query(`SELECT COUNT(*) AS n FROM ${table}`)) as unknown as [{ n: number }[]];
                return Number(r[0]!.n);
              } finally {
                await c.end();
              }
            })();
      expect(rows).toBe(0);
    },
  );
});
