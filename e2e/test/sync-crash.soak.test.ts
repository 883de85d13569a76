import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Client, type Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { createConnection } from 'mysql2/promise';
import { openDataConnection, tableChecksum, type DataConnection } from '@vansales/dataflow';
import { connectTemporalClient, newPayloadKeySpec, vansalesDataConverter } from '@vansales/temporal-config';
import {
  dataSyncWorkflow,
  runSyncNowSignal,
  syncStateQuery,
  type DataSyncInput,
  type SyncState,
} from '@vansales/workflows';
import {
  loadOrCreateSecrets,
  minioEndpoint,
  minioService,
  postgresService,
  postgresUrl,
  Supervisor,
  temporalAddress,
  temporalService,
  TEMPORAL_NAMESPACE,
  type ServiceContext,
} from '@vansales/infra';
import { services } from './support/harness';

/**
 * The crash test: a 1M-row incremental sync from a site's MariaDB to a cloud PostgreSQL,
 * with the agent, the gateway, the cloud worker, the Temporal server, the buffer's object store
 * (MinIO) and the cloud PostgreSQL each killed (SIGKILL, real processes) while rows are moving, and
 * started again. The workflow must finish and the destination must equal the source exactly, after
 * the full load and after an incremental run.
 *
 * Temporal, PostgreSQL and MinIO are this test's own instances (infra's service definitions and
 * supervisor, on free ports and a temporary folder), so killing them touches no other test.
 */
const ROWS = Number(process.env.VSC_CRASH_ROWS ?? 1_000_000);
const repoRoot = join(__dirname, '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The highest attempt each activity type reached in a workflow's history. */
async function lastAttempts(handle: {
  fetchHistory(): Promise<{ events?: unknown[] | null }>;
}): Promise<Record<string, number>> {
  const history = await handle.fetchHistory();
  const scheduled = new Map<string, string>();
  const attempts: Record<string, number> = {};
  for (const e of (history.events ?? []) as {
    eventId?: { toString(): string };
    activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
    activityTaskStartedEventAttributes?: { scheduledEventId?: { toString(): string }; attempt?: number };
  }[]) {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name && e.eventId) scheduled.set(e.eventId.toString(), name);
    const started = e.activityTaskStartedEventAttributes;
    if (started?.scheduledEventId) {
      const type = scheduled.get(started.scheduledEventId.toString()) ?? '?';
      attempts[type] = Math.max(attempts[type] ?? 0, started.attempt ?? 0);
    }
  }
  return attempts;
}

/** Children (agent, gateway, cloud worker) that exited without this test killing them. */
const unexpectedExits: string[] = [];

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 240_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (unexpectedExits.length) throw new Error(`${unexpectedExits.join('; ')} while waiting for ${what}`);
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe(`sync converges when agent, gateway, cloud worker, Temporal, MinIO and PostgreSQL are killed mid-run (${ROWS} rows, real processes)`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-crash-'));
  const bucket = `vsc-crash-${randomBytes(3).toString('hex')}`;
  let ctx: ServiceContext;
  let supervisor: Supervisor;
  let pgSupervisor: Supervisor;
  let s3: S3Client;
  const children = new Set<ChildProcess>();
  const logs: string[] = [];
  const killed = new WeakSet<ChildProcess>();
  let env: Record<string, string>;
  let gatewayUrl: string;
  let warehouseUrl: URL;
  const warehouseName = 'vsc_crash_dw';
  const sourceDb = `vsc_crash_${randomBytes(4).toString('hex')}`;
  let temporal: Client;
  let connection: Connection;

  const start = (name: string, script: string, args: string[] = []) => {
    const child = spawn(process.execPath, [join(repoRoot, script), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => logs.push(`[${name}] ${d.toString()}`));
    child.stderr!.on('data', (d: Buffer) => logs.push(`[${name}] ${d.toString()}`));
    children.add(child);
    child.on('exit', (code, signal) => {
      children.delete(child);
      // Only this test kills its children: any other exit is a crash the test must name at once.
      if (!killed.has(child)) unexpectedExits.push(`${name} exited on its own (code ${code}, signal ${signal})`);
    });
    return child;
  };
  const kill = async (child: ChildProcess) => {
    killed.add(child);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  const startGateway = async () => {
    const child = start('gateway', 'gateway/dist/main.js');
    let exited: number | null | undefined;
    child.once('exit', (code) => (exited = code));
    try {
      await until(
        'the gateway to listen',
        async () => {
          if (exited !== undefined) throw new Error(`the gateway exited with ${exited}`);
          try {
            return (await fetch(`${gatewayUrl}/healthz`)).ok || undefined;
          } catch {
            return undefined;
          }
        },
        60_000,
      );
    } catch (err) {
      throw new Error(
        `${(err as Error).message}; its last output:\n${logs
          .filter((l) => l.startsWith('[gateway]'))
          .slice(-20)
          .join('')}`,
      );
    }
    return child;
  };
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${gatewayUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${env.VSC_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const mariadb = () => createConnection({ ...services.mariadb, database: sourceDb });
  const source = (): Promise<DataConnection> =>
    openDataConnection({
      dialect: 'mysql',
      host: services.mariadb.host,
      port: services.mariadb.port,
      user: services.mariadb.user,
      password: services.mariadb.password,
      database: sourceDb,
    });
  const destination = (): Promise<DataConnection> =>
    openDataConnection({
      dialect: 'postgres',
      host: warehouseUrl.hostname,
      port: Number(warehouseUrl.port),
      user: decodeURIComponent(warehouseUrl.username),
      password: decodeURIComponent(warehouseUrl.password),
      database: warehouseName,
    });
  /** Rows in the destination table, or undefined while it is missing or PostgreSQL is down. */
  const destinationRows = async (): Promise<number | undefined> => {
    const dst = await destination().catch(() => undefined);
    if (!dst) return undefined;
    try {
      return (await dst.tableExists({ name: 'orders' })) ? await dst.countRows({ name: 'orders' }) : undefined;
    } catch {
      return undefined;
    } finally {
      await dst.close().catch(() => undefined);
    }
  };
  /** Chunks stored in the buffer (MinIO), or undefined while MinIO is down. */
  const chunks = async (): Promise<number | undefined> => {
    let n = 0;
    let token: string | undefined;
    try {
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
        n += (page.Contents ?? []).filter((o) => /chunk/.test(o.Key ?? '')).length;
        token = page.NextContinuationToken;
      } while (token);
      return n;
    } catch {
      return undefined;
    }
  };
  /** A crash of one backing service: SIGKILL, then the same service started again on its data folder. */
  const crash = async (name: 'temporal' | 'minio' | 'postgres') => {
    const spec = { temporal: temporalService, minio: minioService, postgres: postgresService }[name];
    const owner = name === 'postgres' ? pgSupervisor : supervisor;
    await owner.kill(name);
    await owner.start(spec);
  };
  const sameData = async () => {
    const [src, dst] = await Promise.all([source(), destination()]);
    try {
      const described = (await src.describeTable({ name: 'orders' }))!;
      const a = await tableChecksum(src, { name: 'orders' }, described.columns, ['id']);
      const b = await tableChecksum(dst, { name: 'orders' }, described.columns, ['id']);
      return { a, b };
    } finally {
      await Promise.all([src.close(), dst.close()]);
    }
  };

  beforeAll(async () => {
    // The private services' folder must be reachable by the accounts infra drops to as root (postgres, vsc-services).
    chmodSync(dir, 0o755);
    const ports = await Promise.all(Array.from({ length: 7 }, () => freePort()));
    ctx = {
      profile: 'test',
      stateDir: dir,
      ports: {
        temporal: ports[0]!,
        temporalUi: ports[1]!,
        temporalHttp: ports[2]!,
        temporalMetrics: ports[3]!,
        postgres: ports[4]!,
        minio: ports[5]!,
        minioConsole: ports[6]!,
        mariadb: services.mariadb.port,
        redis: 0,
        gateway: 0,
        console: 0, // no console in this test
      },
      secrets: loadOrCreateSecrets(dir),
      log: () => undefined,
    };
    supervisor = new Supervisor(ctx);
    // PostgreSQL as a cloud database runs: the test profile's speed-ups include synchronous_commit=off,
    // which acknowledges a commit before its WAL is written, so a killed server loses rows it had
    // confirmed (a whole loaded chunk, seen here). The dev profile's settings are durable.
    pgSupervisor = new Supervisor({ ...ctx, profile: 'dev' });
    for (const spec of [temporalService, postgresService, minioService]) await spec.install?.(ctx);
    await Promise.all([
      supervisor.start(temporalService),
      supervisor.start(minioService),
      pgSupervisor.start(postgresService),
    ]);
    const admin = new PgClient({ connectionString: postgresUrl(ctx) });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${warehouseName}`);
    await admin.query('CREATE DATABASE vsc_crash_meta');
    await admin.end();
    warehouseUrl = new URL(postgresUrl(ctx, warehouseName));
    s3 = new S3Client({
      endpoint: minioEndpoint(ctx),
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: ctx.secrets.minioAccessKey, secretAccessKey: ctx.secrets.minioSecretKey },
    });

    const conn = await createConnection({ ...services.mariadb, multipleStatements: false });
    await conn.query(`CREATE DATABASE ${sourceDb}`);
    await conn.query(
      `CREATE TABLE ${sourceDb}.orders (id BIGINT PRIMARY KEY, customer INT NOT NULL, amount DECIMAL(12,2) NOT NULL, note VARCHAR(64), placed DATE NOT NULL, updated_at DATETIME(6) NOT NULL, KEY (updated_at, id))`,
    );
    // Deterministic rows from the sequence engine; updated_at spread so the cursor has many values.
    await conn.query(
      `INSERT INTO ${sourceDb}.orders SELECT seq, seq % 9973, ROUND((seq % 100000) / 7, 2), IF(seq % 17 = 0, NULL, CONCAT('note ', seq % 1000)), DATE('2024-01-01') + INTERVAL (seq % 700) DAY, TIMESTAMP('2025-01-01') + INTERVAL seq SECOND FROM ${sourceDb}.seq_1_to_${ROWS}`,
    );
    await conn.end();

    const port = await freePort();
    gatewayUrl = `http://127.0.0.1:${port}`;
    const wh = warehouseUrl;
    const tenantId = `crash${randomBytes(3).toString('hex')}`;
    writeFileSync(
      join(dir, 'cloud-databases.json'),
      JSON.stringify({
        [tenantId]: {
          warehouse: {
            dialect: 'postgres',
            host: wh.hostname,
            port: Number(wh.port),
            user: decodeURIComponent(wh.username),
            password: decodeURIComponent(wh.password),
            database: warehouseName,
          },
        },
      }),
      { mode: 0o600 },
    );
    env = {
      VSC_GATEWAY_PORT: String(port),
      VSC_ADMIN_TOKEN: randomBytes(32).toString('base64url'),
      TEMPORAL_ADDRESS: temporalAddress(ctx),
      TEMPORAL_NAMESPACE: TEMPORAL_NAMESPACE,
      VSC_WORKFLOW_TASK_QUEUE: `workflows-${randomBytes(4).toString('hex')}`,
      VSC_CLOUD_TASK_QUEUE: `cloud-${randomBytes(4).toString('hex')}`,
      DATABASE_URL: postgresUrl(ctx, 'vsc_crash_meta'),
      VSC_REDIS_URL: services.redisUrl,
      VSC_PAYLOAD_KEYS: newPayloadKeySpec('crash'),
      VSC_BUFFER_STORE: 's3',
      VSC_BUFFER_S3_ENDPOINT: minioEndpoint(ctx),
      VSC_BUFFER_S3_BUCKET: bucket,
      VSC_BUFFER_S3_ACCESS_KEY_ID: ctx.secrets.minioAccessKey,
      VSC_BUFFER_S3_SECRET_ACCESS_KEY: ctx.secrets.minioSecretKey,
      VSC_BUFFER_S3_FORCE_PATH_STYLE: 'true',
      VSC_BUFFER_KEYS: `b1:${randomBytes(32).toString('base64')}`,
      VSC_BUFFER_TOKEN_SECRET: randomBytes(32).toString('base64'),
      VSC_CLOUD_DATABASES_FILE: join(dir, 'cloud-databases.json'),
      VSC_LOG_LEVEL: process.env.VSC_SOAK_LOG_LEVEL ?? 'warn',
      // The namespace's one purge schedule is not this test's to change.
      VSC_BUFFER_PURGE_MINUTES: '0',
      ...(process.env.VSC_TEST_WORKFLOW_BUNDLE ? { VSC_WORKFLOW_BUNDLE: process.env.VSC_TEST_WORKFLOW_BUNDLE } : {}),
    };
    env.TENANT = tenantId;
    connection = await connectTemporalClient({ address: temporalAddress(ctx) });
    temporal = new Client({
      connection,
      namespace: TEMPORAL_NAMESPACE,
      dataConverter: vansalesDataConverter(env.VSC_PAYLOAD_KEYS as string),
    });
  }, 300_000);

  afterAll(async () => {
    await Promise.all([...children].map((c) => kill(c)));
    await connection?.close();
    const conn = await createConnection(services.mariadb);
    await conn.query(`DROP DATABASE IF EXISTS ${sourceDb}`);
    await conn.end();
    s3?.destroy();
    await Promise.all([supervisor?.stopAll({ parallel: true }), pgSupervisor?.stopAll()]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** A failure carries what the children last printed: a soak that fails once must say why. */
  const withLogs = (body: () => Promise<void>) => async () => {
    try {
      await body();
    } catch (err) {
      (err as Error).message +=
        `\n--- last output of the agent, gateway and cloud worker ---\n${logs.slice(-80).join('')}`;
      throw err;
    }
  };
  /** The workflow's pending activities (type, state, attempt, last failure), for a wait that timed out. */
  const pendingActivities = async (handle: { describe(): Promise<{ raw: unknown }> }) => {
    const raw = (await handle.describe().catch(() => undefined))?.raw as
      | {
          pendingActivities?: {
            activityType?: { name?: string };
            state?: unknown;
            attempt?: number;
            lastFailure?: { message?: string };
          }[];
        }
      | undefined;
    return JSON.stringify(
      (raw?.pendingActivities ?? []).map((a) => ({
        type: a.activityType?.name,
        state: a.state,
        attempt: a.attempt,
        lastFailure: a.lastFailure?.message,
      })),
    );
  };
  /** Waits for `run` like `until` (a crashed child or the deadline ends it), naming the pending activities. */
  const settled = async <T>(
    what: string,
    handle: Parameters<typeof pendingActivities>[0],
    run: Promise<T>,
    ms: number,
  ) => {
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    run.then(
      (value) => (outcome = { ok: true, value }),
      (error: unknown) => (outcome = { ok: false, error }),
    );
    try {
      await until(what, () => outcome, ms);
    } catch (err) {
      (err as Error).message += `; pending activities: ${await pendingActivities(handle)}`;
      throw err;
    }
    if (!outcome!.ok) throw outcome!.error;
    return outcome!.value;
  };

  it(
    'finishes the full load and an incremental run with the destination equal to the source',
    withLogs(async () => {
      let gateway = await startGateway();
      let worker = start('cloud-worker', 'cloud-worker/dist/main.js');
      const tenantId = env.TENANT!;
      await api('POST', '/v1/tenants', { id: tenantId, name: 'Crash' });
      const connector = await api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, {
        name: 'erp',
      });
      const agentConfig = join(dir, 'agent.json');
      writeFileSync(
        agentConfig,
        JSON.stringify({
          gatewayUrl: `${gatewayUrl.replace('http', 'ws')}/v1/agent/connect`,
          apiKey: connector.apiKey,
          reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
          logLevel: process.env.VSC_SOAK_LOG_LEVEL ?? 'warn',
          databases: {
            erp: {
              dialect: 'mysql',
              host: services.mariadb.host,
              port: services.mariadb.port,
              user: services.mariadb.user,
              password: services.mariadb.password,
              database: sourceDb,
            },
          },
        }),
        { mode: 0o600 },
      );
      let agent = start('agent', 'connector-agent/dist/main.js', ['run', '--config', agentConfig]);

      const input: DataSyncInput = {
        tenantId,
        source: { placement: 'connector', connectorId: connector.id, database: 'erp' },
        destination: { placement: 'cloud', database: 'warehouse' },
        tables: [{ source: { name: 'orders' }, cursorColumn: 'updated_at' }],
        intervalSeconds: 3600,
        maxRuns: 2,
        chunkRows: 25_000,
        cloudTaskQueue: env.VSC_CLOUD_TASK_QUEUE,
        // Lost tasks (a killed gateway or worker) are noticed this soon.
        heartbeatTimeoutSeconds: 8,
      };
      const handle = await temporal.workflow.start(dataSyncWorkflow, {
        taskQueue: env.VSC_WORKFLOW_TASK_QUEUE as string,
        workflowId: `crash-${randomBytes(4).toString('hex')}`,
        args: [input],
      });
      const total = Math.ceil(ROWS / 25_000);
      const chunksAtLeast = (n: number) => async () => ((await chunks()) ?? 0) >= n || undefined;
      /** Waits until the extract stored `more` chunks past what the buffer holds now (never past the last one). */
      const moreChunks = async (what: string, more: number) => {
        const before = (await until('MinIO to answer', chunks)) as number;
        await until(what, chunksAtLeast(Math.min(total - 1, before + more)));
      };
      const crashes: Record<string, number> = {};
      const timed = async (name: string, fn: () => Promise<unknown>) => {
        const t0 = Date.now();
        await fn();
        crashes[name] = Date.now() - t0;
      };

      // 1. The agent dies while it extracts.
      await until('the extract to be under way', chunksAtLeast(Math.max(2, Math.floor(total / 5))));
      await kill(agent);
      agent = start('agent', 'connector-agent/dist/main.js', ['run', '--config', agentConfig]);

      // 2. The gateway dies while the extract goes on (after the restarted agent stored more).
      await moreChunks('the extract to continue after the agent restart', 2);
      await kill(gateway);
      gateway = await startGateway();

      // 3. The buffer's object store (MinIO) dies while chunks are being written to it.
      await moreChunks('the extract to continue after the gateway restart', 1);
      await timed('minio', () => crash('minio'));

      // 4. The Temporal server dies while activities run and heartbeat; its db file keeps the workflow.
      await moreChunks('the extract to continue after the MinIO restart', 1);
      await timed('temporal', () => crash('temporal'));

      // 5. The cloud worker dies while it loads.
      await until('the load to be under way', async () => ((await destinationRows()) ?? 0) > 0 || undefined, 900_000);
      await kill(worker);
      worker = start('cloud-worker', 'cloud-worker/dist/main.js');

      // 6. The cloud PostgreSQL (destination and metadata store) dies while rows are loaded into it.
      const loaded = (await until('PostgreSQL to answer', destinationRows)) as number;
      await until(
        'the load to continue after the worker restart',
        async () => {
          const rows = await destinationRows();
          return (rows !== undefined && rows > loaded) || rows === ROWS || undefined;
        },
        900_000,
      );
      await timed('postgres', () => crash('postgres'));
      process.stdout.write(`crash test: restart of each killed service (ms) ${JSON.stringify(crashes)}\n`);

      const afterFull = await until(
        'the full load to finish',
        async () => {
          const s = await handle.query(syncStateQuery).catch(() => undefined);
          return s && s.runsDone >= 1 ? s : undefined;
        },
        900_000,
      );
      expect(afterFull.tables.orders!.rowsCopied).toBeGreaterThanOrEqual(ROWS);
      // The kills really hit running tasks: the extract was retried twice (agent gone, gateway gone)
      // and the cloud load once (worker gone).
      const attempts = await lastAttempts(handle);
      expect(attempts.dataExtract).toBeGreaterThanOrEqual(3);
      expect(attempts.cloudLoad).toBeGreaterThanOrEqual(2);
      const full = await sameData();
      expect(full.b.rows).toBe(ROWS);
      expect(full.b).toEqual(full.a);

      // 4. Changes on the site: updates move rows past the cursor, inserts add new ones.
      const conn = await mariadb();
      await conn.query(
        `UPDATE orders SET amount = amount + 1, note = 'changed', updated_at = TIMESTAMP('2030-01-01') + INTERVAL id MICROSECOND WHERE id % 1000 = 0`,
      );
      await conn.query(
        `INSERT INTO orders SELECT ${ROWS} + seq, seq, 1.5, 'new', DATE('2030-02-01'), TIMESTAMP('2030-02-01') + INTERVAL seq SECOND FROM seq_1_to_500`,
      );
      await conn.end();
      await handle.signal(runSyncNowSignal);
      const final = (await settled('the incremental run to finish', handle, handle.result(), 600_000)) as SyncState;
      expect(final.runsDone).toBe(2);
      // The incremental run moved only the changed and new rows.
      expect(final.tables.orders!.lastRunRows).toBe(Math.floor(ROWS / 1000) + 500);
      const incremental = await sameData();
      expect(incremental.b.rows).toBe(ROWS + 500);
      expect(incremental.b).toEqual(incremental.a);
    }),
    1_500_000,
  );
});
