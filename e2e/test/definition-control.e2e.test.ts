import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { throwawayPostgresDatabase } from '@vansales/test-kit';
import { openDataConnection, tableChecksum, type DataConnection } from '@vansales/dataflow';
import type { DefinitionDocumentInput, DefinitionRunStatus, DefinitionStore } from '@vansales/definitions';
import { pgConfig, startPlatform, until, type Platform } from './support/harness';

/**
 * What runs need from the metadata store, served by the gateway's control activities: the cursor
 * each incremental source reached (kept between runs, per definition and step, for the source it was
 * reached on) and the definitions call steps run. The cloud worker here has a definition store that
 * refuses every read, so a call step that still went there would fail.
 */
const refusingStore: DefinitionStore = {
  published: async () => {
    throw new Error('runs the gateway starts must not read definitions on the cloud worker');
  },
  version: async () => {
    throw new Error('runs the gateway starts must not read definitions on the cloud worker');
  },
};

type Run = { runId: string; status: string; run?: DefinitionRunStatus };

describe('definition runs with the control activities of the gateway', () => {
  let platform: Platform;
  let site: Awaited<ReturnType<typeof throwawayPostgresDatabase>>;
  let dw: Awaited<ReturnType<typeof throwawayPostgresDatabase>>;
  let siteDb: DataConnection;
  let warehouse: DataConnection;
  let connectorId: string;
  const tenant = `ctl-${randomBytes(3).toString('hex')}`;

  const sql = async (url: string, text: string) => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  const api = async <T>(method: 'GET' | 'POST', url: string, body?: unknown) => {
    const res = await platform.api<T>(method, url, body);
    if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  /** Saves a new version of the definition (creating it first) and publishes it. */
  const publish = async (id: string, document: Omit<DefinitionDocumentInput, 'format'>) => {
    const full = { format: 'vansales.definition/v1' as const, ...document };
    const created = await platform.api<{ version: { version: number } }>('POST', `/v1/tenants/${tenant}/definitions`, {
      id,
      document: full,
    });
    const version =
      created.status === 201
        ? created.body.version.version
        : (
            await api<{ version: { version: number } }>('POST', `/v1/tenants/${tenant}/definitions/${id}/versions`, {
              document: full,
            })
          ).version.version;
    await api('POST', `/v1/tenants/${tenant}/definitions/${id}/publish`, { version });
  };
  /** Starts a run through REST and waits until it ends; a failed run fails the test with its steps. */
  const run = async (id: string): Promise<DefinitionRunStatus> => {
    const started = await api<{ runId: string }>('POST', `/v1/tenants/${tenant}/definitions/${id}/runs`, {});
    const done = await until(`run ${started.runId} of ${id} to end`, async () => {
      const r = await api<Run>('GET', `/v1/tenants/${tenant}/definitions/${id}/runs/${started.runId}`);
      return r.status === 'completed' || r.status === 'failed' ? r : undefined;
    });
    if (done.status !== 'completed') throw new Error(`run of ${id} ended ${done.status}: ${JSON.stringify(done.run)}`);
    return done.run!;
  };
  const sameData = async (table: string) => {
    const columns = (await siteDb.describeTable({ name: table }))!.columns;
    const [a, b] = await Promise.all([
      tableChecksum(siteDb, { name: table }, columns, ['id']),
      tableChecksum(warehouse, { name: 'orders' }, columns, ['id']),
    ]);
    return { a, b };
  };
  const incremental = (table: string) => ({
    name: 'orders to the warehouse, incrementally',
    steps: [
      {
        id: 'extract',
        kind: 'source' as const,
        db: {
          endpoint: { kind: 'site-db' as const, connectorId, database: 'erp' },
          table: { name: table },
          incremental: { column: 'updated_at' },
        },
      },
      {
        id: 'load',
        kind: 'destination' as const,
        db: {
          endpoint: { kind: 'cloud-db' as const, database: 'dw' },
          table: { name: 'orders' },
          keyColumns: ['id'],
          createIfMissing: true,
        },
      },
    ],
    edges: [{ from: 'extract', to: 'load' }],
  });

  beforeAll(async () => {
    platform = await startPlatform({ definitions: refusingStore });
    await api('POST', '/v1/tenants', { id: tenant, name: tenant });
    site = await throwawayPostgresDatabase('vsc_ctlsite');
    dw = await throwawayPostgresDatabase('vsc_ctldw');
    await sql(
      site.url,
      `CREATE TABLE orders (id int PRIMARY KEY, amount numeric(10,2) NOT NULL, note text, updated_at timestamptz NOT NULL);
       INSERT INTO orders SELECT g, g * 1.25, 'first', TIMESTAMPTZ '2026-01-01' + g * INTERVAL '1 second' FROM generate_series(1, 5000) g;
       CREATE TABLE orders_archive (LIKE orders INCLUDING ALL);
       INSERT INTO orders_archive SELECT g, g, 'archived', TIMESTAMPTZ '2020-01-01' + g * INTERVAL '1 second' FROM generate_series(100001, 100030) g;`,
    );
    platform.setCloudDatabases({ [tenant]: { dw: pgConfig(dw.url, dw.name) } });
    siteDb = await openDataConnection(pgConfig(site.url, site.name));
    warehouse = await openDataConnection(pgConfig(dw.url, dw.name));
    const connector = await api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenant}/connectors`, {
      name: 'erp',
    });
    connectorId = connector.id;
    const policyFile = join(mkdtempSync(join(tmpdir(), 'vsc-ctl-')), 'policy.json');
    writeFileSync(policyFile, JSON.stringify({}));
    const agent = platform.startAgent({
      apiKey: connector.apiKey,
      databases: { erp: pgConfig(site.url, site.name) },
      policyFile,
    });
    await agent.welcomed;
  }, 180_000);

  afterAll(async () => {
    await siteDb?.close();
    await warehouse?.close();
    await platform?.close();
    await site?.drop();
    await dw?.drop();
  });

  it('reads only rows past the cursor the last completed run reached; a step reading another table starts afresh', async () => {
    await publish('orders-inc', incremental('orders'));
    const first = await run('orders-inc');
    expect(first.steps.extract!.output!.dataset!.rows).toBe(5000);
    let data = await sameData('orders');
    expect(data.b.rows).toBe(5000);
    expect(data.b).toEqual(data.a);

    // Edits on the site: 50 updates move past the cursor, 20 rows are new.
    await sql(
      site.url,
      `UPDATE orders SET amount = amount + 1, note = 'changed', updated_at = TIMESTAMPTZ '2027-01-01' + id * INTERVAL '1 ms' WHERE id % 100 = 0;
       INSERT INTO orders SELECT g, 9.99, 'new', TIMESTAMPTZ '2027-02-01' + g * INTERVAL '1 ms' FROM generate_series(5001, 5020) g;`,
    );
    const second = await run('orders-inc');
    expect(second.steps.extract!.output!.dataset!.rows).toBe(70);
    data = await sameData('orders');
    expect(data.b.rows).toBe(5020);
    expect(data.b).toEqual(data.a);

    // Nothing changed: nothing read, and the cursor stays where it was.
    const third = await run('orders-inc');
    expect(third.steps.extract!.output!.dataset!.rows).toBe(0);
    await sql(site.url, `UPDATE orders SET note = 'late', updated_at = TIMESTAMPTZ '2027-03-01' WHERE id = 7`);
    const fourth = await run('orders-inc');
    expect(fourth.steps.extract!.output!.dataset!.rows).toBe(1);

    // A new version reads another table under the same step id: its rows are all older than the
    // cursor of `orders`, and all of them are copied (the old cursor means nothing there).
    await publish('orders-inc', incremental('orders_archive'));
    const archived = await run('orders-inc');
    expect(archived.steps.extract!.output!.dataset!.rows).toBe(30);
    const [{ n }] = (await sql(dw.url, `SELECT count(*)::int AS n FROM orders WHERE note = 'archived'`)) as [
      { n: number },
    ];
    expect(n).toBe(30);
  });

  it('keeps cursors per tenant and definition: another definition on the same table reads everything', async () => {
    await publish('orders-inc-2', incremental('orders'));
    const first = await run('orders-inc-2');
    expect(first.steps.extract!.output!.dataset!.rows).toBe(5020);
  });

  it('runs a call step with the definition read by the gateway, not by the cloud worker', async () => {
    await publish('orders-parent', {
      name: 'calls the incremental copy',
      steps: [{ id: 'copy', kind: 'call', definitionId: 'orders-inc-2' }],
      edges: [],
    });
    const parent = await run('orders-parent');
    expect(parent.steps.copy).toMatchObject({ state: 'completed' });
    expect(parent.steps.copy!.route).toContain('orders-inc-2');
  });
});
