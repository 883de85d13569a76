import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { Client as PgClient } from 'pg';
import { startPlatform, sakilaReader, services, type Platform } from './support/harness';

describe('schema discovery through the agent, stored as versions (real services)', () => {
  let platform: Platform;
  let tenantId: string;
  let connectorId: string;
  const scratch = `vsc_sd_${randomBytes(4).toString('hex')}`;

  const versions = (database: string) =>
    platform.api<{ version: number }[]>(
      'GET',
      `/v1/tenants/${tenantId}/connectors/${connectorId}/schemas/${database}/versions`,
    );

  beforeAll(async () => {
    const conn = await createConnection(services.mariadb);
    await conn.query(`CREATE DATABASE ${scratch}`);
    await conn.query(`CREATE TABLE ${scratch}.orders (id int PRIMARY KEY, total decimal(10,2) NOT NULL)`);
    await conn.end();
    platform = await startPlatform();
    tenantId = `t-${randomBytes(4).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Schemas' });
    const c = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name: 'erp' })
    ).body;
    connectorId = c.id;
    const reader = await sakilaReader();
    const root = {
      dialect: 'mysql' as const,
      host: services.mariadb.host,
      port: services.mariadb.port,
      user: services.mariadb.user,
      password: services.mariadb.password,
    };
    const agent = platform.startAgent({
      apiKey: c.apiKey,
      databases: { sakila: { ...root, ...reader, database: 'sakila' }, scratch: { ...root, database: scratch } },
    });
    await agent.welcomed;
  });

  afterAll(async () => {
    await platform?.close();
    const conn = await createConnection(services.mariadb);
    await conn.query(`DROP DATABASE IF EXISTS ${scratch}`);
    await conn.end();
  });

  it('discovers every database of an agent when it connects', async () => {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const [a, b] = await Promise.all([versions('sakila'), versions('scratch')]);
      if (a.body.length && b.body.length) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect((await versions('sakila')).body.map((v) => v.version)).toEqual([1]);
    const snapshot = await platform.api<{ snapshot: { schemas: { tables: { name: string; kind: string }[] }[] } }>(
      'GET',
      `/v1/tenants/${tenantId}/connectors/${connectorId}/schemas/sakila`,
    );
    const tables = snapshot.body.snapshot.schemas.flatMap((s) => s.tables);
    expect(tables.filter((t) => t.kind === 'table')).toHaveLength(16);
    expect(tables.filter((t) => t.kind === 'view')).toHaveLength(7);
  });

  it('records a new version only when the structure changed, with the diff between versions', async () => {
    const again = await platform.api<{ version: number; changed: boolean }>(
      'POST',
      `/v1/tenants/${tenantId}/connectors/${connectorId}/schemas/scratch/discover`,
    );
    expect(again.body).toMatchObject({ version: 1, changed: false });

    const conn = await createConnection(services.mariadb);
    await conn.query(`ALTER TABLE ${scratch}.orders ADD COLUMN placed_at datetime NULL`);
    await conn.end();
    const changed = await platform.api<{ version: number; changed: boolean }>(
      'POST',
      `/v1/tenants/${tenantId}/connectors/${connectorId}/schemas/scratch/discover`,
    );
    expect(changed.body).toMatchObject({ version: 2, changed: true });

    const diff = await platform.api<{ kind: string; table?: string; column?: string }[]>(
      'GET',
      `/v1/tenants/${tenantId}/connectors/${connectorId}/schemas/scratch/diff?from=1&to=2`,
    );
    expect(diff.status).toBe(200);
    expect(JSON.stringify(diff.body)).toMatch(/placed_at/);
    expect(diff.body).toHaveLength(1);
  });

  it('discovers a 4,000-table database through the agent: compressed in the frame, kept out of Temporal history', async () => {
    const name = `vsc_wide_${randomBytes(3).toString('hex')}`;
    const admin = new PgClient({ connectionString: services.postgresUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const pg = new PgClient({ connectionString: services.postgresUrl(name) });
    await pg.connect();
    await pg.query(`DO $$ BEGIN FOR i IN 1..4000 LOOP
      EXECUTE format('CREATE TABLE t%s (id bigint PRIMARY KEY, name text NOT NULL, amount numeric(12,2), created_at timestamptz DEFAULT now(), note varchar(200))', i);
    END LOOP; END $$`);
    await pg.end();
    try {
      const url = new URL(services.postgresUrl());
      const c = (
        await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, {
          name: 'wide',
        })
      ).body;
      const agent = platform.startAgent({
        apiKey: c.apiKey,
        databases: {
          wide: {
            dialect: 'postgres',
            host: '127.0.0.1',
            port: Number(url.port),
            user: 'postgres',
            password: decodeURIComponent(url.password),
            database: name,
          },
        },
      });
      await agent.welcomed;
      const res = await platform.api<{ workflowId: string; version: number; tables: number }>(
        'POST',
        `/v1/tenants/${tenantId}/connectors/${c.id}/schemas/wide/discover`,
      );
      expect(res.status).toBe(200);
      expect(res.body.tables).toBe(4000);
      const stored = await platform.api<{ snapshot: { schemas: { tables: unknown[] }[] } }>(
        'GET',
        `/v1/tenants/${tenantId}/connectors/${c.id}/schemas/wide?version=${res.body.version}`,
      );
      const json = JSON.stringify(stored.body.snapshot);
      expect(stored.body.snapshot.schemas.flatMap((s) => s.tables)).toHaveLength(4000);
      expect(Buffer.byteLength(json)).toBeGreaterThan(2 * 1024 * 1024); // more than a frame or a Temporal payload holds
      const history = JSON.stringify(await platform.temporal.workflow.getHandle(res.body.workflowId).fetchHistory());
      expect(Buffer.byteLength(history)).toBeLessThan(64 * 1024);
      await agent.close();
    } finally {
      const cleanup = new PgClient({ connectionString: services.postgresUrl() });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    }
  });

  it('keeps snapshots to their tenant', async () => {
    await platform.api('POST', '/v1/tenants', { id: 'other-schemas', name: 'Other' });
    const res = await platform.api(
      'GET',
      `/v1/tenants/other-schemas/connectors/${connectorId}/schemas/sakila/versions`,
    );
    expect(res.status).toBe(404);
  });
});
