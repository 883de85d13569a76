import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { throwawayPostgresDatabase } from '@vansales/test-kit';
import {
  loadOrCreateSecrets,
  metadataUrl,
  platformProcesses,
  registryPublicKey,
  Supervisor,
  type MetadataStore,
  type ServiceContext,
} from '@vansales/infra';
import { pgConfig, sakilaReader, services, until } from './support/harness';
import { freePort } from './support/gateway-cluster';
import { publishAndRun, type PlatformApi } from './support/definition-rest';
import { startSakilaUserApi, type SakilaUserApi } from './support/sakila-user-api';

/**
 * Issue 11 under `./vsc up`: the gateway and the cloud worker as `up` starts them (infra's
 * platformProcesses: the same env, the same metadata store on PostgreSQL with the worker's narrow
 * login, the same registry key handling), built processes under infra's supervisor, on the test
 * services. An API registered and a credential stored through REST; a definition whose step calls
 * the API's operation runs on the cloud worker, which reads the gateway's registry and credential
 * store and writes the call audit the gateway then lists.
 */
const TENANT = 'up-ops';
const API_KEY = `erp-${randomBytes(12).toString('hex')}`;
const columns = 'customer_id, store_id, first_name, last_name, email';

/** A context like `up`'s, but on the running test services, a free gateway port and a temporary state folder. */
async function testProfileContext(stateDir: string): Promise<ServiceContext> {
  const pg = new URL(services.postgresUrl());
  const redis = new URL(services.redisUrl);
  return {
    profile: 'test',
    stateDir,
    ports: {
      temporal: Number(services.temporalAddress.split(':').pop()),
      temporalUi: 0,
      temporalHttp: 0,
      temporalMetrics: 0,
      postgres: Number(pg.port),
      mariadb: services.mariadb.port,
      redis: Number(redis.port),
      minio: 0,
      minioConsole: 0,
      gateway: await freePort(),
      console: 0, // no console in this test
    },
    secrets: {
      ...loadOrCreateSecrets(stateDir),
      postgresPassword: decodeURIComponent(pg.password),
      redisPassword: decodeURIComponent(redis.password),
    },
    log: () => undefined,
  };
}

async function asSuperuser<T>(database: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: services.postgresUrl(database) });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

describe('./vsc up: cloud API operation steps on the shared PostgreSQL metadata store (built processes)', () => {
  const suffix = randomBytes(4).toString('hex');
  const store: MetadataStore = {
    database: `vsc_up_${suffix}`,
    gatewayRole: `vsc_up_gw_${suffix}`,
    workerRole: `vsc_up_cw_${suffix}`,
  };
  const stateDir = mkdtempSync(join(tmpdir(), 'vsc-up-ops-'));
  let ctx: ServiceContext;
  let supervisor: Supervisor | undefined;
  let erp: SakilaUserApi;
  let dw: { name: string; url: string; drop: () => Promise<void> };
  let apiUrl: string;
  const rest: PlatformApi = {
    async api<T>(method: string, url: string, body?: unknown) {
      const res = await fetch(`http://127.0.0.1:${ctx.ports.gateway}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${ctx.secrets.adminToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
  };
  const { gateway, cloudWorker } = platformProcesses({
    metadataStore: store,
    env: {
      // This test's own queues on the shared Temporal namespace, and no buffer purge schedule there.
      VSC_WORKFLOW_TASK_QUEUE: `workflows-${suffix}`,
      VSC_CLOUD_TASK_QUEUE: `cloud-${suffix}`,
      VSC_CONTROL_TASK_QUEUE: `control-${suffix}`,
      VSC_BUFFER_PURGE_MINUTES: '0',
      // The stand-in API listens on loopback; `up` keeps the default (public addresses only).
      VSC_CLOUD_HTTP_ALLOW_PRIVATE: 'true',
      VSC_CLOUD_DATABASES_FILE: join(stateDir, 'cloud-databases.json'),
      ...(process.env.VSC_TEST_WORKFLOW_BUNDLE ? { VSC_WORKFLOW_BUNDLE: process.env.VSC_TEST_WORKFLOW_BUNDLE } : {}),
    },
  });

  beforeAll(async () => {
    ctx = await testProfileContext(stateDir);
    erp = await startSakilaUserApi({ database: { ...services.mariadb, ...(await sakilaReader()) }, apiKey: API_KEY });
    apiUrl = `http://localhost:${new URL(erp.url).port}`;
    dw = await throwawayPostgresDatabase('vsc_updw');
    writeFileSync(
      join(stateDir, 'cloud-databases.json'),
      JSON.stringify({ [TENANT]: { dw: pgConfig(dw.url, dw.name) } }),
      { mode: 0o600 },
    );
    supervisor = new Supervisor(ctx);
    await supervisor.start(gateway);
    await supervisor.start(cloudWorker);
  }, 300_000);

  afterAll(async () => {
    await supervisor?.stopAll();
    await erp?.close();
    await dw?.drop();
    await asSuperuser('postgres', async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${store.database} WITH (FORCE)`);
      await c.query(`DROP ROLE IF EXISTS ${store.gatewayRole}`);
      await c.query(`DROP ROLE IF EXISTS ${store.workerRole}`);
    });
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('registers an API and a credential through REST, runs a cloud operation step: rows copied, calls audited', async () => {
    expect((await rest.api('POST', '/v1/tenants', { id: TENANT, name: TENANT })).status).toBe(201);
    const spec = await (await fetch(`${erp.url}/openapi.json`)).text();
    const registered = await rest.api('POST', `/v1/tenants/${TENANT}/apis/sakila-erp/versions`, {
      spec: { text: spec },
    });
    expect(registered.body).toMatchObject({ version: 1 });
    // The gateway signs with the key `up` keeps in secrets.json, whose public half the worker trusts.
    const signedBy = await asSuperuser(store.database, (c) =>
      c.query<{ key_id: string }>('SELECT DISTINCT key_id FROM api_artifacts WHERE tenant_id = $1', [TENANT]),
    );
    const keyId = createHash('sha256')
      .update(Buffer.from(registryPublicKey(ctx), 'base64'))
      .digest('hex')
      .slice(0, 16);
    expect(signedBy.rows).toEqual([{ key_id: keyId }]);
    const stored = await rest.api('PUT', `/v1/tenants/${TENANT}/credentials/sakila-erp.apiKey`, {
      credential: { kind: 'apiKey', value: API_KEY },
    });
    expect([200, 201]).toContain(stored.status);

    const served = erp.log.length;
    const run = await publishAndRun(rest, TENANT, 'erp-customers', {
      name: 'ERP customers',
      steps: [
        {
          id: 'pull',
          kind: 'source',
          http: {
            endpoint: { kind: 'http', baseUrl: apiUrl },
            operation: { apiId: 'sakila-erp', version: 1, key: 'listActiveCustomers' },
            path: '/api/customers/active',
            query: { limit: '200' },
            records: 'data',
            pagination: { kind: 'cursor', next: 'next_cursor', param: 'cursor' },
          },
        },
        {
          id: 'load',
          kind: 'destination',
          db: {
            endpoint: { kind: 'cloud-db', database: 'dw' },
            table: { name: 'erp_customers' },
            keyColumns: ['customer_id'],
            createIfMissing: true,
          },
        },
      ],
      edges: [{ from: 'pull', to: 'load' }],
    });
    // A failed run shows its steps' failures in the diff.
    expect({ status: run.status, run: run.status === 'completed' ? undefined : run.run }).toEqual({
      status: 'completed',
      run: undefined,
    });

    // The rows: every active customer of the ERP, as the API served them.
    const reader = await createConnection({ ...services.mariadb, database: 'sakila' });
    const [source] = await reader.query<RowDataPacket[]>(
      `SELECT ${columns} FROM customer WHERE active = 1 ORDER BY customer_id`,
    );
    await reader.end();
    const pg = new Client({ connectionString: dw.url });
    await pg.connect();
    const copied = (await pg.query(`SELECT ${columns} FROM erp_customers ORDER BY customer_id`)).rows;
    await pg.end();
    const plain = (rows: Record<string, unknown>[]) =>
      rows.map((r) => columns.split(', ').map((c) => (r[c] === null ? null : String(r[c]))));
    expect(copied.length).toBeGreaterThan(100);
    expect(plain(copied)).toEqual(plain(source));

    // Every page reached the API with the key the cloud worker took from the credential store.
    const pages = erp.log.slice(served);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.every((p) => p.authorized && p.status === 200)).toBe(true);

    // The worker's audit rows, in the PostgreSQL the gateway lists them from.
    // The audit is written beside the step (a failed write never fails a call): wait for the rows. The
    // tenant is this test's own, in this test's own metadata database: every row is this run's.
    const calls = await until(
      'the api_calls rows of the run',
      async () => {
        const listed = await rest.api<{ calls: Record<string, unknown>[] }>('GET', `/v1/tenants/${TENANT}/api-calls`);
        expect(listed.status).toBe(200);
        return listed.body.calls.length >= pages.length ? listed : undefined;
      },
      60_000,
    );
    expect(calls.body.calls).toHaveLength(pages.length);
    expect(new Set(calls.body.calls.map((c) => c.runId)).size).toBe(1);
    expect(calls.body.calls[0]).toMatchObject({
      apiId: 'sakila-erp',
      version: 1,
      operationKey: 'listActiveCustomers',
      side: 'cloud',
      stepId: 'pull',
      status: 200,
    });
  });

  it("gives the cloud worker's login only the registry, the call audit and the credentials", async () => {
    const worker = new Client({ connectionString: metadataUrl(ctx, store, 'worker') });
    await worker.connect();
    try {
      await expect(worker.query('SELECT count(*) FROM credentials')).resolves.toBeDefined();
      await expect(worker.query('SELECT count(*) FROM api_versions')).resolves.toBeDefined();
      for (const denied of [
        'SELECT count(*) FROM tenants',
        'SELECT count(*) FROM agent_keys',
        'DELETE FROM api_calls',
        'DELETE FROM credentials',
        "INSERT INTO apis (tenant_id, id, name, created_by) VALUES ('x', 'x', 'x', 'x')",
        'CREATE TABLE worker_owned (id int)',
      ])
        await expect(worker.query(denied)).rejects.toThrow(/permission denied/);
    } finally {
      await worker.end();
    }
  });

  it('puts no secret in a command line or a log', () => {
    const secrets = [
      API_KEY,
      ctx.secrets.metadataGatewayPassword,
      ctx.secrets.metadataWorkerPassword,
      ctx.secrets.credentialsKeys,
      ctx.secrets.adminToken,
      ctx.secrets.registrySigningKey,
      Buffer.from(ctx.secrets.registrySigningKey, 'base64').toString('utf8').split('\n')[1]!,
    ];
    for (const spec of [gateway, cloudWorker]) {
      const argv = spec.launch(ctx).args.join(' ');
      const log = readFileSync(supervisor!.logFile(spec.name), 'utf8');
      for (const s of secrets) {
        expect({ process: spec.name, argv: argv.includes(s) }).toEqual({ process: spec.name, argv: false });
        expect({ process: spec.name, log: log.includes(s) }).toEqual({ process: spec.name, log: false });
      }
    }
  });
});
