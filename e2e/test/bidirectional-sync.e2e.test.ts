import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { Client } from 'pg';
import { createConnection, type Connection } from 'mysql2/promise';
import { throwawayPostgresDatabase } from '@vansales/test-kit';
import { openDataConnection, tableChecksum, type ColumnSpec, type DataConnection } from '@vansales/dataflow';
import { DefinitionDocument, type DefinitionRunStatus } from '@vansales/definitions';
import type { SyncRunSummary } from '@vansales/workflows';
import { failureText, mariaConfig, pgConfig, services, startPlatform, until, type Platform } from './support/harness';
import { saveHistory } from './support/history-recorder';
import { startDefinitionDirect } from './support/definition-direct';

/**
 * Pattern 3.4.3: bi-directional sync between a site MariaDB (through its agent) and a cloud
 * PostgreSQL, with edits on both sides between runs, through definitionWorkflow on real services.
 */
const record = process.env.VSC_RECORD_HISTORIES === '1';
const ROWS = 3000;

describe('bi-directional sync: site MariaDB <-> cloud PostgreSQL (pattern 3.4.3)', () => {
  let platform: Platform;
  let tenantId: string;
  let siteId: string;
  let mariaName: string;
  let maria: Connection;
  let pg: Client;
  let cloud: { name: string; url: string; drop: () => Promise<void> };
  let site: DataConnection;
  let warehouse: DataConnection;

  beforeAll(async () => {
    platform = await startPlatform();
    tenantId = `bd${randomBytes(3).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Bidirectional' });
    mariaName = `vsc_bd_${randomBytes(4).toString('hex')}`;
    const admin = await createConnection(services.mariadb);
    await admin.query(`CREATE DATABASE ${mariaName} CHARACTER SET utf8mb4`);
    await admin.end();
    maria = await createConnection({ ...services.mariadb, database: mariaName });
    await maria.query(`CREATE TABLE customer (
      customer_id INT PRIMARY KEY, store_id INT NOT NULL, first_name VARCHAR(45) NOT NULL,
      last_name VARCHAR(45) NOT NULL, email VARCHAR(50) NULL, active TINYINT(1) NOT NULL,
      balance DECIMAL(10,2) NOT NULL, updated_at DATETIME(3) NOT NULL)`);
    // Generated like Sakila's customer, a few thousand rows; some emails NULL, names with non-ASCII letters.
    const values: string[] = [];
    for (let i = 1; i <= ROWS; i++)
      values.push(
        `(${i}, ${(i % 2) + 1}, 'Fïrst${i}', 'Last${i % 97}', ${i % 11 === 0 ? 'NULL' : `'c${i}@example.com'`}, ${i % 5 === 0 ? 0 : 1}, ${(i * 1.25).toFixed(2)}, '2026-01-01 00:00:00.${String(i % 1000).padStart(3, '0')}')`,
      );
    await maria.query(`INSERT INTO customer VALUES ${values.join(', ')}`);
    await maria.query(
      `CREATE TABLE payroll (staff_id INT PRIMARY KEY, name VARCHAR(45) NOT NULL, salary DECIMAL(10,2) NOT NULL)`,
    );
    await maria.query(`INSERT INTO payroll VALUES (1, 'Mike', 5000.00), (2, 'Jon', 4000.00)`);
    // Not among the site policy's writable tables.
    await maria.query(`CREATE TABLE region (region_id INT PRIMARY KEY, name VARCHAR(45) NOT NULL)`);
    await maria.query(`INSERT INTO region VALUES (1, 'North'), (2, 'South'), (3, 'East')`);

    cloud = await throwawayPostgresDatabase('vsc_bd');
    pg = new Client({ connectionString: cloud.url });
    await pg.connect();
    await pg.query(`CREATE TABLE customer (
      customer_id integer PRIMARY KEY, store_id integer NOT NULL, first_name varchar(45) NOT NULL,
      last_name varchar(45) NOT NULL, email varchar(50), active boolean NOT NULL,
      balance numeric(10,2) NOT NULL, updated_at timestamp(3) NOT NULL)`);
    await pg.query(
      `CREATE TABLE payroll (staff_id integer PRIMARY KEY, name varchar(45) NOT NULL, salary numeric(10,2) NOT NULL)`,
    );
    await pg.query(`CREATE TABLE region (region_id integer PRIMARY KEY, name varchar(45) NOT NULL)`);
    platform.setCloudDatabases({ [tenantId]: { cloud: pgConfig(cloud.url, cloud.name) } });

    const c = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name: 'site' })
    ).body;
    siteId = c.id;
    const policyFile = join(mkdtempSync(join(tmpdir(), 'vsc-bd-')), 'policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify({
        writableTables: [
          { database: 'erp', table: 'customer' },
          { database: 'erp', table: 'payroll' },
        ],
        columns: [{ database: 'erp', table: 'payroll', column: 'salary', action: 'mask' }],
      }),
    );
    const agent = platform.startAgent({
      apiKey: c.apiKey,
      databases: { erp: mariaConfig(mariaName) },
      policyFile,
    });
    await agent.welcomed;
    site = await openDataConnection(mariaConfig(mariaName));
    warehouse = await openDataConnection(pgConfig(cloud.url, cloud.name));
  }, 120_000);

  afterAll(async () => {
    await site?.close();
    await warehouse?.close();
    await maria?.end();
    await pg?.end();
    await platform?.close();
    await cloud?.drop();
    const admin = await createConnection(services.mariadb);
    await admin.query(`DROP DATABASE IF EXISTS ${mariaName}`);
    await admin.end();
  });

  const syncDoc = (conflict: unknown, table = 'customer', columns?: string[]) =>
    DefinitionDocument.parse({
      format: 'vansales.definition/v1',
      name: 'customers both ways',
      steps: [
        {
          id: 'sync',
          kind: 'sync',
          left: { endpoint: { kind: 'site-db', connectorId: siteId, database: 'erp' }, table: { name: table } },
          right: { endpoint: { kind: 'cloud-db', database: 'cloud' }, table: { name: table } },
          keyColumns: [{ customer: 'customer_id', payroll: 'staff_id', region: 'region_id' }[table]!],
          ...(columns ? { columns } : {}),
          conflict,
          deletes: true,
          onError: { retry: { maximumAttempts: 2, initialInterval: '100ms' } },
        },
      ],
      edges: [],
    });

  const run = async (definitionId: string, document: DefinitionDocument, history?: string) => {
    const handle = await startDefinitionDirect(platform, tenantId, definitionId, document, {
      // The plan and the sync state are the gateway's (the harness's cloud worker has no state store).
      controlTaskQueue: platform.controlTaskQueue,
    });
    const status: DefinitionRunStatus = await handle.result();
    if (record && history) await saveHistory(platform, history, handle.workflowId);
    const summary = status.steps.sync!.output!.value as SyncRunSummary;
    // The figures of the report: what each run read and moved.
    process.stdout.write(`sync ${definitionId}: ${JSON.stringify(summary)}\n`);
    return summary;
  };

  const COLUMNS = ['customer_id', 'store_id', 'first_name', 'last_name', 'email', 'active', 'balance', 'updated_at'];
  const checksum = async (conn: DataConnection) =>
    tableChecksum(
      conn,
      { name: 'customer' },
      COLUMNS.map((name) => ({ name }) as ColumnSpec),
      ['customer_id'],
    );
  const bothEqual = async () => {
    const [l, r] = await Promise.all([checksum(site), checksum(warehouse)]);
    expect(r).toEqual(l);
    return l;
  };

  const LWW = { policy: 'last-writer-wins', column: 'updated_at' };

  it('converges, propagates edits and deletes both ways, settles conflicts by the later write, echoes nothing', async () => {
    // Run 1: a first sync copies the site's rows to the empty cloud table.
    const first = await run('bd-lww', syncDoc(LWW), 'definition-sync-first');
    expect(first).toMatchObject({
      firstSync: true,
      copied: { toLeft: 0, toRight: ROWS },
      deleted: { left: 0, right: 0 },
    });
    expect((await bothEqual()).rows).toBe(ROWS);

    // Edits on both sides between runs.
    await maria.query(
      `UPDATE customer SET email = 'left@example.com', updated_at = '2026-02-01 00:00:00' WHERE customer_id = 10`,
    );
    await pg.query(
      `UPDATE customer SET last_name = 'RightEdit', updated_at = '2026-02-01 00:00:00' WHERE customer_id = 20`,
    );
    // The same row on both sides: the later write (the cloud's) must win.
    await maria.query(
      `UPDATE customer SET first_name = 'LEFT', updated_at = '2026-03-01 10:00:00' WHERE customer_id = 30`,
    );
    await pg.query(
      `UPDATE customer SET first_name = 'RIGHT', updated_at = '2026-03-01 10:00:01' WHERE customer_id = 30`,
    );
    // ... and once the other way round (the site's is later).
    await maria.query(
      `UPDATE customer SET balance = 1.00, updated_at = '2026-03-02 00:00:00' WHERE customer_id = 2500`,
    );
    await pg.query(`UPDATE customer SET balance = 2.00, updated_at = '2026-03-01 00:00:00' WHERE customer_id = 2500`);
    await maria.query(`INSERT INTO customer VALUES (5001, 1, 'New', 'OnSite', NULL, 1, 10.00, '2026-02-02 00:00:00')`);
    await pg.query(
      `INSERT INTO customer VALUES (5002, 2, 'New', 'InCloud', 'n@example.com', false, 20.00, '2026-02-02 00:00:00')`,
    );
    await maria.query(`DELETE FROM customer WHERE customer_id = 40`);
    await pg.query(`DELETE FROM customer WHERE customer_id = 1777`);

    const second = await run('bd-lww', syncDoc(LWW), 'definition-sync-edits');
    expect(second).toMatchObject({
      firstSync: false,
      copied: { toRight: 3 /* 10, 2500, 5001 */, toLeft: 3 /* 20, 30, 5002 */ },
      deleted: { left: 1 /* 1777 */, right: 1 /* 40 */ },
      conflicts: 2,
    });
    // Only the differing ranges were read, not the tables.
    expect(second.rowsRead.left + second.rowsRead.right).toBeLessThan(ROWS / 2);
    expect((await bothEqual()).rows).toBe(ROWS + 2 - 2);
    const [row30] = (await maria.query('SELECT first_name FROM customer WHERE customer_id = 30')) as unknown as [
      { first_name: string }[],
    ];
    expect(row30[0]!.first_name).toBe('RIGHT');
    expect((await pg.query('SELECT balance::text AS b FROM customer WHERE customer_id = 2500')).rows[0].b).toBe('1.00');
    expect((await pg.query('SELECT count(*)::int AS n FROM customer WHERE customer_id IN (40, 1777)')).rows[0].n).toBe(
      0,
    );

    // Run 3, no edits: one checksum per side, zero rows read, nothing moved (no echo of run 2's copies).
    const third = await run('bd-lww', syncDoc(LWW), 'definition-sync-idle');
    expect(third).toEqual({
      firstSync: false,
      checksums: 1,
      rangesRead: 0,
      rowsRead: { left: 0, right: 0 },
      copied: { toLeft: 0, toRight: 0 },
      deleted: { left: 0, right: 0 },
      conflicts: 0,
    });
    await bothEqual();
  }, 300_000);

  it('settles a conflict by source priority when the definition prefers a side', async () => {
    // Another definition: its own state, built by its first sync of the (now equal) tables.
    const doc = syncDoc({ policy: 'prefer', side: 'left' });
    const first = await run('bd-prefer', doc);
    expect(first).toMatchObject({ firstSync: true, copied: { toLeft: 0, toRight: 0 } });
    // The cloud writes later, but the site is preferred.
    await maria.query(
      `UPDATE customer SET last_name = 'SiteWins', updated_at = '2026-04-01 00:00:00' WHERE customer_id = 60`,
    );
    await pg.query(
      `UPDATE customer SET last_name = 'CloudLoses', updated_at = '2026-05-01 00:00:00' WHERE customer_id = 60`,
    );
    // A change on the other side only is no conflict: it reaches the preferred side, not reverted by it.
    await pg.query(`UPDATE customer SET email = 'only-cloud@example.com' WHERE customer_id = 70`);
    const second = await run('bd-prefer', doc);
    expect(second).toMatchObject({ copied: { toLeft: 1, toRight: 1 }, conflicts: 1 });
    const [row70] = (await maria.query('SELECT email FROM customer WHERE customer_id = 70')) as unknown as [
      { email: string }[],
    ];
    expect(row70[0]!.email).toBe('only-cloud@example.com');
    expect((await pg.query('SELECT last_name FROM customer WHERE customer_id = 60')).rows[0].last_name).toBe(
      'SiteWins',
    );
    await bothEqual();
  }, 300_000);

  it('deletes on the site only from a table its policy lets be written', async () => {
    const doc = syncDoc({ policy: 'prefer', side: 'right' }, 'region');
    // The first sync copies the site's regions to the cloud (writing the cloud side only).
    expect(await run('bd-region', doc)).toMatchObject({ copied: { toLeft: 0, toRight: 3 } });
    await pg.query('DELETE FROM region WHERE region_id = 2');
    const err = await run('bd-region', doc).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(failureText(err)).toMatch(
      /writing to erp\.region is refused by .*add \{"database": "erp", "table": "region"\}/,
    );
    const [rows] = (await maria.query('SELECT count(*) AS n FROM region')) as unknown as [{ n: number }[]];
    expect(Number(rows[0]!.n)).toBe(3);
  }, 120_000);

  it('refuses to checksum a column the site policy protects, before any row or checksum leaves the site', async () => {
    const err = await run(
      'bd-payroll',
      syncDoc({ policy: 'prefer', side: 'left' }, 'payroll', ['staff_id', 'name', 'salary']),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(failureText(err)).toMatch(/protects column salary of .*payroll.*leave it out of the sync step's columns/);
    expect((await pg.query('SELECT count(*)::int AS n FROM payroll')).rows[0].n).toBe(0);
  }, 120_000);

  it("refuses at validation a sync whose first key column is text in the site's discovered schema, naming the step", async () => {
    const keyed = (keyColumns: string[]) => {
      const document = syncDoc(LWW);
      return { ...document, steps: [{ ...document.steps[0]!, keyColumns }] };
    };
    const validate = (keyColumns: string[]) =>
      platform.api<{ ok: boolean; issues: { code: string; path: string; stepId?: string; message: string }[] }>(
        'POST',
        `/v1/tenants/${tenantId}/definitions/validate`,
        { document: keyed(keyColumns) },
      );
    // The agent's databases are discovered when it connects: once erp's schema is recorded, the type is known.
    const refused = await until('the text key to be refused', async () => {
      const res = await validate(['email', 'customer_id']);
      return res.body.ok ? undefined : res.body;
    });
    expect(refused.issues).toEqual([
      expect.objectContaining({
        code: 'sync-key-not-integer',
        path: 'steps[0].keyColumns[0]',
        stepId: 'sync',
        message: expect.stringMatching(/sync "sync": its first key column email is varchar\(50\) in erp.customer/),
      }),
    ]);
    expect((await validate(['customer_id'])).body).toEqual({ ok: true, issues: [] });
  });
});
