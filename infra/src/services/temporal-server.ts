import { execFileSync } from 'node:child_process';
import { chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { ensureGoBinary, ensureTemporalSchema, TEMPORAL_SERVER, TEMPORAL_SQL_TOOL } from '../install';
import { InfraError, InfraErrorCode } from '../errors';
import type { ServiceContext, ServiceSpec } from '../service';
import { postgresUrl } from './postgres';
import { ownedTree, reachableBinary, serviceAccount } from './system-user';
import { temporalService } from './temporal';

/** The server's login and its two databases on the profile's PostgreSQL. */
const LOGIN = 'temporal';
const DATABASES = { store: 'temporal', visibility: 'temporal_visibility' } as const;

let binaries: { server: string; sqlTool: string; schema: string } | undefined;

/**
 * The ports of the server's services: the frontend on ports.temporal (what clients dial), the others
 * on the eight ports after it. Fixed ports, since the services find each other through membership.
 */
export function temporalServerPorts(ctx: Pick<ServiceContext, 'ports'>) {
  const base = ctx.ports.temporal;
  return {
    frontend: base,
    frontendMembership: base + 1,
    history: base + 2,
    historyMembership: base + 3,
    matching: base + 4,
    matchingMembership: base + 5,
    worker: base + 6,
    workerMembership: base + 7,
    http: ctx.ports.temporalHttp,
    metrics: ctx.ports.temporalMetrics,
  };
}

/** The login and its databases, made once as the PostgreSQL superuser (the server itself is no superuser). */
async function ensureLoginAndDatabases(ctx: ServiceContext): Promise<void> {
  const admin = new Client({ connectionString: postgresUrl(ctx) });
  await admin.connect();
  try {
    const password = ctx.secrets.temporalDbPassword.replace(/'/g, "''");
    const role = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [LOGIN]);
    await admin.query(
      `${role.rowCount ? 'ALTER' : 'CREATE'} ROLE ${LOGIN} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${password}'`,
    );
    for (const db of Object.values(DATABASES)) {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
      if (!exists.rowCount) await admin.query(`CREATE DATABASE ${db} OWNER ${LOGIN}`);
    }
  } finally {
    await admin.end();
  }
}

/**
 * The schema, set up and upgraded by the server's own temporal-sql-tool (what an operator runs against
 * their database): `setup-schema -v 0.0` on an empty database, then `update-schema` to the versions the
 * build ships, which is a no-op once there. The password goes by environment (SQL_PASSWORD), never argv.
 */
function migrate(ctx: ServiceContext, sqlTool: string, schema: string): void {
  const common = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(ctx.ports.postgres), '-u', LOGIN];
  const env = { ...process.env, SQL_PASSWORD: ctx.secrets.temporalDbPassword };
  const run = (args: string[]) => {
    try {
      return execFileSync(sqlTool, [...common, ...args], { env, encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string };
      return { failed: `${e.stdout ?? ''}${e.stderr ?? String(err)}`.trim().split('\n').slice(-5).join('\n') };
    }
  };
  for (const [kind, db] of Object.entries(DATABASES)) {
    const dir = join(schema, kind === 'store' ? 'temporal' : 'visibility', 'versioned');
    const setup = run(['--db', db, 'setup-schema', '-v', '0.0']);
    // Already set up (a later start): the schema_version table exists; update-schema then brings it up to date.
    if (typeof setup !== 'string' && !/already exists/i.test(setup.failed))
      throw new InfraError(
        InfraErrorCode.serviceFailed,
        `temporal-sql-tool setup-schema on ${db} failed:\n${setup.failed}`,
      );
    const update = run(['--db', db, 'update-schema', '-d', dir]);
    if (typeof update !== 'string')
      throw new InfraError(
        InfraErrorCode.serviceFailed,
        `temporal-sql-tool update-schema on ${db} failed:\n${update.failed}`,
      );
  }
}

/**
 * The server's config: PostgreSQL for both stores, every service on loopback, no archival. A template
 * (`enable-template`): the password comes from the process environment, so the file holds none.
 */
function serverConfig(ctx: ServiceContext): string {
  const p = temporalServerPorts(ctx);
  const datastore = (db: string, maxConns: number) => `      sql:
        pluginName: "postgres12"
        databaseName: "${db}"
        connectAddr: "127.0.0.1:${ctx.ports.postgres}"
        connectProtocol: "tcp"
        user: "${LOGIN}"
        password: {{ env "TEMPORAL_SQL_PASSWORD" | quote }}
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
  const service = (grpc: number, membership: number, http?: number) => `    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${http ? `\n      httpPort: ${http}` : ''}`;
  return `# enable-template
log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  # Fixed for the life of a cluster; 4 is plenty for one machine (production sizes it to its load).
  numHistoryShards: 4
  datastores:
    postgres-default:
${datastore(DATABASES.store, 20)}
    postgres-visibility:
${datastore(DATABASES.visibility, 4)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  metrics:
    prometheus:
      framework: "tally"
      timerType: "histogram"
      listenAddress: "127.0.0.1:${p.metrics}"
services:
  frontend:
${service(p.frontend, p.frontendMembership, p.http)}
  history:
${service(p.history, p.historyMembership)}
  matching:
${service(p.matching, p.matchingMembership)}
  worker:
${service(p.worker, p.workerMembership)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${p.frontend}"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: "${join(ctx.stateDir, 'temporal-server', 'dynamicconfig.yaml')}"
  pollInterval: "60s"
`;
}

/**
 * The same two settings as the dev server (temporal.ts says why): one partition per task queue, since a
 * connector queue has one poller, and a transfer queue read on notification rather than 20 times a second.
 */
const DYNAMIC_CONFIG = `matching.numTaskqueueReadPartitions:
  - value: 1
matching.numTaskqueueWritePartitions:
  - value: 1
history.transferProcessorMaxPollRPS:
  - value: 1000
`;

/**
 * The real Temporal server (go.temporal.io/server, all four services in one process) on the profile's
 * PostgreSQL, for the production topology. Clients see it on the same address as the dev server.
 */
export const temporalServerService: ServiceSpec = {
  name: 'temporal-server',
  ports: (ctx) => {
    const p = temporalServerPorts(ctx);
    return Object.values(p);
  },
  readyTimeoutMs: 120_000,
  stopTimeoutMs: 20_000,
  install(ctx) {
    const server = ensureGoBinary(TEMPORAL_SERVER, ctx.log);
    const sqlTool = ensureGoBinary(TEMPORAL_SQL_TOOL, ctx.log);
    binaries = { server, sqlTool, schema: ensureTemporalSchema(ctx.log) };
  },
  async prepare(ctx) {
    if (!binaries) throw new Error('temporal-server: install() did not run');
    const dir = join(ctx.stateDir, 'temporal-server');
    const owner = serviceAccount();
    // As root, the server runs as the services' account: the folder and its config are that account's only.
    ownedTree(dir, owner);
    ownedTree(join(dir, 'config'), owner);
    await ensureLoginAndDatabases(ctx);
    migrate(ctx, binaries.sqlTool, binaries.schema);
    for (const [file, text] of [
      [join(dir, 'config', 'production.yaml'), serverConfig(ctx)],
      [join(dir, 'dynamicconfig.yaml'), DYNAMIC_CONFIG],
    ] as const) {
      writeFileSync(file, text, { mode: 0o600 });
      if (owner) chownSync(file, owner.uid, owner.gid);
    }
  },
  launch(ctx) {
    const owner = serviceAccount();
    const dir = join(ctx.stateDir, 'temporal-server');
    return {
      command: reachableBinary(binaries?.server ?? ensureGoBinary(TEMPORAL_SERVER, ctx.log), ctx.stateDir, owner),
      user: owner,
      args: ['--root', dir, '--config', 'config', '--env', 'production', '--allow-no-auth', 'start'],
      env: { TEMPORAL_SQL_PASSWORD: ctx.secrets.temporalDbPassword, ...(owner ? { HOME: dir } : {}) },
    };
  },
  // Same client view as the dev server: its system info answers, then the namespace and search attributes.
  ready: (ctx) => temporalService.ready(ctx),
  afterReady: (ctx) => temporalService.afterReady!(ctx),
};
