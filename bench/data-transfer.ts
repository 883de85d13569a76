/**
 * Data-plane benchmark: one generated table (1,000,000 rows, 10 columns) from the test MariaDB to
 * PostgreSQL, three ways in the same run:
 *   - vsc-agent: our path, a `dataTransferWorkflow` through the gateway and a real agent (both
 *     databases on the agent's site; rows never leave it);
 *   - pgloader: the usual open-source tool for exactly this move (the peer);
 *   - psql-copy: `\copy` of the same rows from a CSV file into a pre-created table (the floor: the
 *     least any loader into PostgreSQL can cost).
 * Then the cloud-to-site direction: a `dataSyncWorkflow` whose cloud worker extracts the rows from
 * a PostgreSQL database the cloud reaches into the buffer and whose agent loads them into a site
 * MariaDB, timed per step from the workflow history, and site-to-cloud the other way.
 * The gateway, the cloud worker and the agent are separate processes, as in production
 * (common/platform-processes.ts); the peak RSS of each is printed per path.
 * Prints one JSON line per figure on stdout; progress goes to stderr. No assertion on time: the
 * figures are the result. It does exit non-zero when a destination does not hold the source's rows.
 * How to run: see bench/README.md.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client as PgClient } from 'pg';
import { createConnection as createCallbackConnection } from 'mysql2';
import { type DataConverter, type ProtoFailure, type WorkflowHandle } from '@temporalio/client';
import { dataSyncWorkflow, dataTransferWorkflow } from '@vansales/workflows';
import { openDataConnection, tableChecksum, type DataConnection } from '@vansales/dataflow';
import { ensureAptPackages } from '@vansales/infra';
import { emit, freshDatabase, round, services, cliOption, rowsOption } from './support';
import {
  checkTally,
  ensureGeneratedTable,
  mariadb,
  mariadbTally,
  pgAccess,
  pgTally,
  type Tally,
} from './generated-table';
import {
  sampledRss,
  startPlatformProcesses,
  type ProcessName,
  type ProcessPlatform as Platform,
  type RssSample,
} from './common/platform-processes';

const BENCH = 'data-transfer';
const SOURCE_DATABASE = 'vsc_bench';

const option = (name: string) => cliOption(name);
const ROWS = rowsOption();
const PATHS = ['vsc-agent', 'pgloader', 'psql-copy', 'cloud-to-site', 'site-to-cloud'] as const;
type PathName = (typeof PATHS)[number];
const only = option('only')?.split(',');
for (const p of only ?? [])
  if (!PATHS.includes(p as PathName)) throw new Error(`--only takes ${PATHS.join(',')}, not ${p}`);
const runs = (p: PathName) => !only || only.includes(p);
/** The table's name says its size, so a quick run does not throw away the full-size table. */
const TABLE = ROWS === 1_000_000 ? 'rows_1m' : `rows_${ROWS}`;

const log = (msg: string) => process.stderr.write(`[bench ${BENCH}] ${msg}\n`);
const verbose = !!process.env.BENCH_VERBOSE;

async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - t0) / 1000, value };
}

/**
 * `--cloud-worker split`: a workflows-only and an activities-only cloud worker (VSC_CLOUD_WORKER_ROLE)
 * instead of one process for both, so the one that moves rows does not hold the workflow runtime.
 */
const CLOUD_WORKER = option('cloud-worker') ?? 'one';
if (CLOUD_WORKER !== 'one' && CLOUD_WORKER !== 'split')
  throw new Error(`--cloud-worker takes one or split, not ${CLOUD_WORKER}`);
/** Node flags of the three processes (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

/** Each process's highest RSS over the paths run (MB), for the summary against the 300 MB target. */
const peaks: Record<string, number> = {};

/** Per process: its RSS before the step and its peak while the step ran, in MB. */
function rssFigures(rss: Map<ProcessName, RssSample>) {
  for (const [name, s] of rss) peaks[name] = round(Math.max(peaks[name] ?? 0, s.peak), 1);
  const of = (pick: (s: RssSample) => number) =>
    Object.fromEntries([...rss].map(([name, s]) => [name, round(pick(s), 1)]));
  return { rssBeforeMbByProcess: of((s) => s.idle), rssPeakMbByProcess: of((s) => s.peak) };
}

// ---------------------------------------------------------------------------------------------
// The source table.

// ---------------------------------------------------------------------------------------------
// Verification: count and sum(id) on any table (works on whatever types a peer chose), plus the
// dataflow checksum over every column where both sides are ours.

const openMariadb = (database: string): Promise<DataConnection> =>
  openDataConnection({ dialect: 'mysql', ...services.mariadb, database });
const openPostgres = (database: string): Promise<DataConnection> =>
  openDataConnection({ dialect: 'postgres', ...pgAccess(database) });

/** Every column of every row, by the dataflow checksum of each side. */
async function sameChecksum(
  path: string,
  source: () => Promise<DataConnection>,
  destination: () => Promise<DataConnection>,
  table: string,
): Promise<unknown> {
  const [src, dst] = await Promise.all([source(), destination()]);
  try {
    const described = await src.describeTable({ name: TABLE });
    if (!described) throw new Error(`${path}: source table ${TABLE} not found by the dataflow reader`);
    const there = await dst.describeTable({ name: table });
    if (!there) throw new Error(`${path}: destination table ${table} not found by the dataflow reader`);
    // Each side's own column types (the checksum normalises values per type), in the source's order.
    const columns = described.columns.map((c) => {
      const match = there.columns.find((d) => d.name === c.name);
      if (!match) throw new Error(`${path}: destination table ${table} has no column ${c.name}`);
      return match;
    });
    const a = await tableChecksum(src, { name: TABLE }, described.columns, ['id']);
    const b = await tableChecksum(dst, { name: table }, columns, ['id']);
    if (JSON.stringify(a) !== JSON.stringify(b))
      throw new Error(`${path}: checksums differ: source ${JSON.stringify(a)}, destination ${JSON.stringify(b)}`);
    return b;
  } finally {
    await Promise.all([src.close(), dst.close()]);
  }
}

// ---------------------------------------------------------------------------------------------
// pgloader (the peer).

interface ProcessResult {
  seconds: number;
  code: number | null;
  output: string;
}

/** Runs a program, its output kept for the error message; passwords only ever in `env`. */
function run(program: string, argv: string[], env: Record<string, string>): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(program, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => (chunks.push(d), verbose && process.stderr.write(d)));
    child.stderr.on('data', (d: Buffer) => (chunks.push(d), verbose && process.stderr.write(d)));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ seconds: (performance.now() - t0) / 1000, code, output: Buffer.concat(chunks).toString('utf8') }),
    );
  });
}

const tail = (text: string, lines = 15) => text.trim().split('\n').slice(-lines).join('\n');

async function runPgloader(work: string, want: Tally): Promise<number> {
  ensureAptPackages([{ probe: 'pgloader', pkg: 'pgloader' }], log);
  const db = await freshDatabase('vsc_bench_pgloader');
  try {
    const pg = pgAccess(db.name);
    const dir = mkdtempSync(join(work, 'pgloader-'));
    const commandFile = join(dir, 'load.pgl');
    // No password in the file either: pgloader takes both from the environment (MYSQL_PWD,
    // PGPASSWORD), like the clients it mirrors. pgloader puts MySQL tables in a schema named
    // after the source database; renamed to public so the result is where a user expects it.
    writeFileSync(
      commandFile,
      [
        'LOAD DATABASE',
        `  FROM mysql://${services.mariadb.user}@${services.mariadb.host}:${services.mariadb.port}/${SOURCE_DATABASE}`,
        `  INTO postgresql://${pg.user}@${pg.host}:${pg.port}/${db.name}`,
        `  INCLUDING ONLY TABLE NAMES MATCHING '${TABLE}'`,
        `  ALTER SCHEMA '${SOURCE_DATABASE}' RENAME TO 'public';`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    log(`pgloader: ${TABLE} into ${db.name}`);
    const result = await run('pgloader', ['--root-dir', dir, commandFile], {
      MYSQL_PWD: services.mariadb.password,
      PGPASSWORD: pg.password,
    });
    if (result.code !== 0) throw new Error(`pgloader exited with ${result.code}:\n${tail(result.output)}`);
    // pgloader reports row errors in its summary and still exits 0: the count is what proves it.
    const got = await pgTally(db.name, `public.${TABLE}`).catch((err: Error) => {
      throw new Error(`pgloader: cannot read its result (${err.message}); its output:\n${tail(result.output)}`);
    });
    checkTally('pgloader', got, want);
    emit({
      bench: BENCH,
      path: 'pgloader',
      rows: got.rows,
      seconds: round(result.seconds, 3),
      rowsPerSecond: Math.round(got.rows / result.seconds),
      verified: 'count+sum(id)',
    });
    return result.seconds;
  } finally {
    await db.drop();
  }
}

// ---------------------------------------------------------------------------------------------
// psql \copy (the floor).

/** A CSV field as PostgreSQL's CSV format reads it: NULL unquoted and empty, text always quoted. */
function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return `"${String(v).replace(/"/g, '""')}"`;
}

/** Streams the source table to a CSV file (not timed); dates and big numbers as the server's text. */
async function exportCsv(file: string): Promise<void> {
  const conn = createCallbackConnection({
    ...services.mariadb,
    database: SOURCE_DATABASE,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  try {
    const rows = conn
      .query({
        sql: `SELECT id, qty, big, amount, ratio, code, note, created_at, day, active FROM ${TABLE} ORDER BY id`,
        rowsAsArray: true,
      })
      .stream({ highWaterMark: 5000 });
    const toCsv = new Transform({
      writableObjectMode: true,
      transform(row: unknown[], _enc, done) {
        done(null, `${row.map(csvField).join(',')}\n`);
      },
    });
    await pipeline(rows, toCsv, createWriteStream(file, { mode: 0o600 }));
  } finally {
    await new Promise<void>((resolve) => conn.end(() => resolve()));
  }
}

/** The same types our path and a careful hand would choose; the key is there before the load, as for ours. */
const FLOOR_DDL = (table: string) => `CREATE TABLE ${table} (
  id bigint PRIMARY KEY, qty integer NOT NULL, big bigint NOT NULL, amount numeric(12,2) NOT NULL, ratio double precision,
  code varchar(64) NOT NULL, note varchar(255), created_at timestamp NOT NULL, day date, active smallint NOT NULL)`;

async function runCopyFloor(work: string, want: Tally): Promise<number> {
  const csv = join(mkdtempSync(join(work, 'csv-')), `${TABLE}.csv`);
  log(`psql-copy: exporting ${TABLE} to CSV (not timed)`);
  await exportCsv(csv);
  const db = await freshDatabase('vsc_bench_copy');
  try {
    const pg = pgAccess(db.name);
    const admin = new PgClient({ connectionString: services.postgresUrl(db.name) });
    await admin.connect();
    await admin.query(FLOOR_DDL(TABLE));
    await admin.end();
    log(`psql-copy: \\copy into ${db.name}`);
    const result = await run(
      'psql',
      [
        '-X',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        pg.host,
        '-p',
        String(pg.port),
        '-U',
        pg.user,
        '-d',
        db.name,
        '-c',
        `\\copy ${TABLE} FROM '${csv}' WITH (FORMAT csv)`,
      ],
      { PGPASSWORD: pg.password },
    );
    if (result.code !== 0) throw new Error(`psql \\copy exited with ${result.code}:\n${tail(result.output)}`);
    const got = await pgTally(db.name, TABLE);
    checkTally('psql-copy', got, want);
    emit({
      bench: BENCH,
      path: 'psql-copy',
      rows: got.rows,
      seconds: round(result.seconds, 3),
      rowsPerSecond: Math.round(got.rows / result.seconds),
      verified: 'count+sum(id)',
    });
    return result.seconds;
  } finally {
    await db.drop();
    rmSync(csv, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Our paths: gateway, cloud worker and agent as processes of their own, on the test services.

function startPlatform(
  work: string,
  databases: { dst: string; load: string; warehouse: string; lake: string },
): Promise<Platform> {
  return startPlatformProcesses(work, {
    label: 'vsc_bench_meta',
    agentDatabases: {
      src: { dialect: 'mysql', ...services.mariadb, database: SOURCE_DATABASE },
      dst: { dialect: 'postgres', ...pgAccess(databases.dst) },
      load: { dialect: 'mysql', ...services.mariadb, database: databases.load },
    },
    // The site's own policy: loads may write to the two destination databases, nothing else.
    writable: ['dst', 'load'],
    // The cloud reaches the warehouse (cloud-to-site extracts from it) and the lake directly.
    cloudDatabases: {
      warehouse: { dialect: 'postgres', ...pgAccess(databases.warehouse) },
      lake: { dialect: 'postgres', ...pgAccess(databases.lake) },
    },
    cloudWorker: CLOUD_WORKER as 'one' | 'split',
    nodeArgs: NODE_ARGS,
    memlog: !!process.env.BENCH_MEMLOG,
    verbose,
    log,
  });
}

/** Failure text of a pending activity; messages are encrypted by our codec, so decoded here. */
async function failureText(converter: DataConverter, f: ProtoFailure | null | undefined): Promise<string> {
  if (!f) return 'no failure recorded';
  let message = f.message ?? '';
  if (f.encodedAttributes) {
    let payload = f.encodedAttributes;
    for (const codec of [...(converter.payloadCodecs ?? [])].reverse()) payload = (await codec.decode([payload]))[0]!;
    try {
      message =
        (JSON.parse(Buffer.from(payload.data ?? []).toString('utf8')) as { message?: string }).message ?? message;
    } catch {
      // Left as the server has it.
    }
  }
  return f.cause ? `${message} (caused by: ${await failureText(converter, f.cause)})` : message;
}

/** Retries this many attempts before the run is abandoned: a retried step's time is no benchmark figure. */
const MAX_ATTEMPTS = 3;

/**
 * The workflow's result, watching its activities meanwhile: a failing attempt is logged with its
 * (decoded) reason at once, and a step that keeps failing ends the run instead of retrying for
 * an hour under the workflow's retry policy.
 */
async function resultWatched(platform: Platform, handle: WorkflowHandle, label: string): Promise<unknown> {
  let done = false;
  const seen = new Set<string>();
  const watch = async (): Promise<never> => {
    for (;;) {
      await new Promise((r) => setTimeout(r, 2000));
      if (done) return new Promise<never>(() => undefined);
      const described = await handle.describe().catch(() => undefined);
      for (const a of described?.raw.pendingActivities ?? []) {
        const attempt = a.attempt ?? 1;
        if (attempt <= 1) continue;
        const why = await failureText(platform.dataConverter, a.lastFailure);
        const key = `${a.activityId}:${attempt}`;
        if (!seen.has(key)) {
          seen.add(key);
          log(`${label}: ${a.activityType?.name} attempt ${attempt - 1} failed: ${why}`);
        }
        if (attempt >= MAX_ATTEMPTS) {
          await handle
            .terminate(`benchmark: ${a.activityType?.name} failed ${attempt - 1} times`)
            .catch(() => undefined);
          throw new Error(`${label}: ${a.activityType?.name} failed ${attempt - 1} times; last failure: ${why}`);
        }
      }
    }
  };
  try {
    return await Promise.race([handle.result(), watch()]);
  } finally {
    done = true;
  }
}

async function runOurs(platform: Platform, dst: string, want: Tally): Promise<number> {
  log(`vsc-agent: dataTransferWorkflow ${SOURCE_DATABASE}.${TABLE} -> ${dst}.${TABLE}`);
  const {
    value: { seconds, value },
    rss,
    cpuSeconds,
  } = await sampledRss(platform, () =>
    timed(async () => {
      const handle = await platform.temporal.workflow.start(dataTransferWorkflow, {
        taskQueue: platform.workflowTaskQueue,
        workflowId: `bench-transfer-${randomBytes(4).toString('hex')}`,
        args: [
          {
            tenantId: platform.tenantId,
            connectorId: platform.connectorId,
            transfer: {
              source: { database: 'src', table: { name: TABLE } },
              destination: { database: 'dst', table: { name: TABLE } },
              mode: 'append',
            },
          },
        ],
      });
      return resultWatched(platform, handle, 'vsc-agent');
    }),
  );
  const out = value as { rowCount: number };
  const got = await pgTally(dst, TABLE);
  checkTally('vsc-agent', got, want);
  if (out.rowCount !== want.rows)
    throw new Error(`vsc-agent: the workflow reported ${out.rowCount} rows, the source has ${want.rows}`);
  const checksum = await sameChecksum(
    'vsc-agent',
    () => openMariadb(SOURCE_DATABASE),
    () => openPostgres(dst),
    TABLE,
  );
  emit({
    bench: BENCH,
    path: 'vsc-agent',
    rows: got.rows,
    seconds: round(seconds, 3),
    rowsPerSecond: Math.round(got.rows / seconds),
    verified: 'count+sum(id)+tableChecksum',
    checksum,
    ...rssFigures(rss),
    cpuSecondsByProcess: cpuSeconds,
  });
  return seconds;
}

/** Start-to-completion time of each attempt that completed, per activity type, from the history. */
async function activitySeconds(handle: WorkflowHandle): Promise<Record<string, number[]>> {
  const history = await handle.fetchHistory();
  const ms = (t: { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined) =>
    Number(t?.seconds?.toString() ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
  const scheduled = new Map<string, string>();
  const started = new Map<string, number>();
  const out: Record<string, number[]> = {};
  for (const e of history.events ?? []) {
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes)
      scheduled.set(id, e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
    // Recorded when the attempt ends, but stamped with the time it started.
    if (e.activityTaskStartedEventAttributes) started.set(id, ms(e.eventTime));
    const done = e.activityTaskCompletedEventAttributes;
    if (done) {
      const type = scheduled.get(String(done.scheduledEventId)) ?? '?';
      (out[type] ??= []).push((ms(e.eventTime) - started.get(String(done.startedEventId))!) / 1000);
    }
  }
  return out;
}

type BufferPath = 'cloud-to-site' | 'site-to-cloud';

/**
 * A dataSyncWorkflow through the buffer, one direction: cloud-to-site reads the cloud's warehouse
 * (what vsc-agent wrote) into a fresh MariaDB database on the site; site-to-cloud reads the site's
 * MariaDB source into a fresh PostgreSQL database the cloud reaches (lake).
 */
async function runThroughBuffer(platform: Platform, path: BufferPath, target: string, want: Tally): Promise<number> {
  const toSite = path === 'cloud-to-site';
  log(
    toSite
      ? `cloud-to-site: dataSyncWorkflow warehouse.${TABLE} (cloud) -> load.${TABLE} (site)`
      : `site-to-cloud: dataSyncWorkflow src.${TABLE} (site) -> lake.${TABLE} (cloud)`,
  );
  const site = { placement: 'connector' as const, connectorId: platform.connectorId };
  const {
    value: { seconds, value: handle },
    rss,
    cpuSeconds,
  } = await sampledRss(platform, () =>
    timed(async () => {
      const h = await platform.temporal.workflow.start(dataSyncWorkflow, {
        taskQueue: platform.workflowTaskQueue,
        workflowId: `bench-sync-${randomBytes(4).toString('hex')}`,
        args: [
          {
            tenantId: platform.tenantId,
            source: toSite ? { placement: 'cloud', database: 'warehouse' } : { ...site, database: 'src' },
            destination: toSite ? { ...site, database: 'load' } : { placement: 'cloud', database: 'lake' },
            tables: [{ source: { name: TABLE } }],
            maxRuns: 1,
            cloudTaskQueue: platform.cloudTaskQueue,
          },
        ],
      });
      await resultWatched(platform, h, path);
      return h;
    }),
  );
  const got = toSite ? await mariadbTally(target, TABLE) : await pgTally(target, TABLE);
  checkTally(path, got, want);
  const checksum = await sameChecksum(
    path,
    () => openMariadb(SOURCE_DATABASE),
    () => (toSite ? openMariadb(target) : openPostgres(target)),
    TABLE,
  );
  const steps = await activitySeconds(handle);
  const [extractStep, loadStep] = toSite ? ['cloudExtract', 'dataLoad'] : ['dataExtract', 'cloudLoad'];
  const extract = steps[extractStep!]?.at(-1);
  const loadSeconds = steps[loadStep!]?.at(-1);
  if (extract === undefined || loadSeconds === undefined)
    throw new Error(
      `${path}: the history has no completed ${extractStep} and ${loadStep} (found ${JSON.stringify(steps)})`,
    );
  emit({
    bench: BENCH,
    path,
    rows: got.rows,
    seconds: round(seconds, 3),
    rowsPerSecond: Math.round(got.rows / seconds),
    extractSeconds: round(extract, 3),
    extractRowsPerSecond: Math.round(got.rows / extract),
    loadSeconds: round(loadSeconds, 3),
    loadRowsPerSecond: Math.round(got.rows / loadSeconds),
    verified: 'count+sum(id)+tableChecksum',
    checksum,
    ...rssFigures(rss),
    cpuSecondsByProcess: cpuSeconds,
  });
  return seconds;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const load1m = loadavg()[0]!;
  const work = mkdtempSync(join(tmpdir(), 'vsc-bench-transfer-'));
  const cleanups: (() => Promise<void>)[] = [];
  try {
    await ensureGeneratedTable(SOURCE_DATABASE, TABLE, ROWS, log);
    const want = await mariadbTally(SOURCE_DATABASE, TABLE);
    const seconds: Partial<Record<PathName, number>> = {};

    if (runs('vsc-agent') || runs('cloud-to-site') || runs('site-to-cloud')) {
      // The transfer's destination doubles as the cloud's warehouse for cloud-to-site, which
      // so reads the very rows vsc-agent wrote.
      const dst = await freshDatabase('vsc_bench_dst');
      cleanups.push(dst.drop);
      const load = `vsc_bench_load_${randomBytes(4).toString('hex')}`;
      const conn = await mariadb();
      await conn.query(`CREATE DATABASE ${load} CHARACTER SET utf8mb4`);
      await conn.end();
      cleanups.push(async () => {
        const c = await mariadb();
        await c.query(`DROP DATABASE IF EXISTS ${load}`);
        await c.end();
      });
      const lake = await freshDatabase('vsc_bench_lake');
      cleanups.push(lake.drop);
      const platform = await startPlatform(work, { dst: dst.name, load, warehouse: dst.name, lake: lake.name });
      cleanups.push(() => platform.close());
      // cloud-to-site needs the rows vsc-agent puts in the warehouse, so that one always runs with it.
      if (runs('vsc-agent') || runs('cloud-to-site')) seconds['vsc-agent'] = await runOurs(platform, dst.name, want);
      if (runs('cloud-to-site'))
        seconds['cloud-to-site'] = await runThroughBuffer(platform, 'cloud-to-site', load, want);
      if (runs('site-to-cloud'))
        seconds['site-to-cloud'] = await runThroughBuffer(platform, 'site-to-cloud', lake.name, want);
    }
    if (runs('pgloader')) seconds.pgloader = await runPgloader(work, want);
    if (runs('psql-copy')) seconds['psql-copy'] = await runCopyFloor(work, want);

    // Same rows on each path, so a speed ratio is the inverse ratio of times.
    const ratio = (ours: PathName, theirs: PathName) =>
      seconds[ours] !== undefined && seconds[theirs] !== undefined
        ? round(seconds[theirs]! / seconds[ours]!, 3)
        : undefined;
    emit({
      bench: BENCH,
      rows: want.rows,
      ratios: {
        oneSiteVsPgloader: ratio('vsc-agent', 'pgloader'),
        oneSiteVsCopyFloor: ratio('vsc-agent', 'psql-copy'),
        cloudToSiteVsCopyFloor: ratio('cloud-to-site', 'psql-copy'),
        siteToCloudVsCopyFloor: ratio('site-to-cloud', 'psql-copy'),
      },
      targets: {
        oneSiteVsPgloader: '>= 2.5',
        oneSiteVsCopyFloor: '>= 0.6',
        cloudToSiteVsCopyFloor: '>= 0.35',
        siteToCloudVsCopyFloor: '>= 0.35',
      },
      peakRssMbByProcess: peaks,
      memoryTargetMb: 300,
      withinMemoryTarget: Object.values(peaks).every((mb) => mb <= 300),
      ...(CLOUD_WORKER === 'split' ? { cloudWorker: 'split' } : {}),
      ...(NODE_ARGS.length ? { nodeArgs: NODE_ARGS.join(' ') } : {}),
      // The machine may be shared (CI, other services): its load says how far to trust the figures.
      host: {
        cpus: availableParallelism(),
        loadAvg1mAtStart: round(load1m, 2),
        loadAvg1mAtEnd: round(loadavg()[0]!, 2),
      },
    });
  } finally {
    for (const c of cleanups.reverse()) await c().catch((err: Error) => log(`cleanup: ${err.message}`));
    rmSync(work, { recursive: true, force: true });
  }
}

void main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(
      `${BENCH} failed: ${err instanceof Error ? err.stack : String(err)}\ncause: ${String((err as { cause?: unknown }).cause)}\n`,
    );
    process.exit(1);
  },
);
