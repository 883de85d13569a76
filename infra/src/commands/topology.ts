import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serviceContext } from '../context';
import { acquireLock } from '../lock';
import { Supervisor } from '../supervisor';
import { stopOnSignals } from './foreground';
import type { ServiceContext, ServiceSpec } from '../service';
import { postgresService } from '../services/postgres';
import { redisService } from '../services/redis';
import { minioEndpoint, minioService } from '../services/minio';
import { temporalServerService } from '../services/temporal-server';
import { haproxyService } from '../services/haproxy';
import { platformProcesses } from '../services/platform';
import { ensureTestTools } from '../install';
import { writeServiceDirectory } from '../service-directory';
import { reclaimOrphans, startServices } from './test';

/** Three gateway nodes behind HAProxy and two cloud workers, as in issue 13 §7. */
export const GATEWAY_NODES = 3;
export const CLOUD_WORKERS = 2;
/** The S3 bucket (on MinIO) of the encrypted buffer every node and worker shares. */
const BUFFER_BUCKET = 'vsc-buffer';

/** Node i (1-based) listens on the port after HAProxy's front plus i. */
export const gatewayNodePort = (ctx: Pick<ServiceContext, 'ports'>, i: number) => ctx.ports.gateway + i;

/** What the nodes and workers share beyond `platformProcesses`: the buffer in S3 (MinIO), not a local folder. */
function sharedEnv(ctx: ServiceContext): Record<string, string> {
  return {
    VSC_BUFFER_STORE: 's3',
    VSC_BUFFER_S3_ENDPOINT: minioEndpoint(ctx),
    VSC_BUFFER_S3_BUCKET: BUFFER_BUCKET,
    VSC_BUFFER_S3_ACCESS_KEY_ID: ctx.secrets.minioAccessKey,
    VSC_BUFFER_S3_SECRET_ACCESS_KEY: ctx.secrets.minioSecretKey,
    VSC_BUFFER_S3_FORCE_PATH_STYLE: 'true',
    VSC_LOG_LEVEL: 'warn',
  };
}

/**
 * Gateway node i: the `./vsc up` gateway under its own name, port and node id (its sessions are leased
 * in Redis under that id). The environment is built at launch, when the context (and its secrets) exist.
 */
function gatewayNode(ctx: ServiceContext, i: number): ServiceSpec {
  const port = gatewayNodePort(ctx, i);
  const { gateway } = platformProcesses({
    env: { ...sharedEnv(ctx), VSC_GATEWAY_PORT: String(port), VSC_GATEWAY_NODE_ID: `node-${i}` },
  });
  return {
    ...gateway,
    name: `gateway-${i}`,
    ports: () => [port],
    async ready() {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
      return res.ok;
    },
    // Node 1 migrates the store; every node grants the worker login again (idempotent), as `up` does.
  };
}

function cloudWorker(ctx: ServiceContext, i: number): ServiceSpec {
  const { cloudWorker } = platformProcesses({ env: sharedEnv(ctx) });
  return { ...cloudWorker, name: `cloud-worker-${i}` };
}

/** Where the topology's parts are, beside services.json (which tests and benchmarks read through test-kit). */
function writeTopologyFile(ctx: ServiceContext): void {
  const nodes = Array.from({ length: GATEWAY_NODES }, (_, k) => ({
    name: `gateway-${k + 1}`,
    url: `http://127.0.0.1:${gatewayNodePort(ctx, k + 1)}`,
    pidFile: join(ctx.stateDir, 'pids', `gateway-${k + 1}.pid`),
  }));
  writeFileSync(
    join(ctx.stateDir, 'topology.json'),
    JSON.stringify(
      { loadBalancer: `http://127.0.0.1:${ctx.ports.gateway}`, nodes, cloudWorkers: CLOUD_WORKERS },
      null,
      2,
    ),
    { mode: 0o600 },
  );
}

/**
 * `vsc topology`: the production layout on one machine, in the foreground until a signal. The real
 * Temporal server on PostgreSQL, Redis, MinIO (S3), three gateway nodes behind HAProxy, two cloud
 * workers. A gateway node that dies is reported and left dead (the topology exists to survive that);
 * anything else dying stops everything.
 */
export async function topology(): Promise<number> {
  const ctx = serviceContext('topology', (l) => process.stdout.write(`[vsc topology] ${l}\n`));
  const lock = acquireLock(ctx.stateDir, 'vsc topology');
  const supervisor = new Supervisor(ctx);
  // A gateway node that dies is left dead: the topology exists to survive that.
  const stop = stopOnSignals(ctx, supervisor, lock, {
    parallel: true,
    survives: (name) => name.startsWith('gateway-'),
  });
  const started = Date.now();
  try {
    await reclaimOrphans(ctx, supervisor);
    // PostgreSQL first: the Temporal server's schema is set up in it before the server starts.
    await startServices(ctx, supervisor, [postgresService, redisService, minioService]);
    await startServices(ctx, supervisor, [temporalServerService]);
    ensureTestTools(ctx.log);
    const nodes = Array.from({ length: GATEWAY_NODES }, (_, k) => gatewayNode(ctx, k + 1));
    // One at a time: the first migrates the shared metadata store.
    for (const node of nodes) await supervisor.start(node);
    await Promise.all(Array.from({ length: CLOUD_WORKERS }, (_, k) => supervisor.start(cloudWorker(ctx, k + 1))));
    const lb = haproxyService((c) => nodes.map((n, k) => ({ name: n.name, port: gatewayNodePort(c, k + 1) })));
    await startServices(ctx, supervisor, [lb]);
    writeServiceDirectory(ctx);
    writeTopologyFile(ctx);
    process.stdout.write(`
Vansales Connect topology is up (${((Date.now() - started) / 1000).toFixed(1)} s). Ctrl-C stops everything.

  Load balancer     http://127.0.0.1:${ctx.ports.gateway} (HAProxy) -> ${nodes.map((_, k) => gatewayNodePort(ctx, k + 1)).join(', ')}
  Temporal server   127.0.0.1:${ctx.ports.temporal} (PostgreSQL persistence)
  Cloud workers     ${CLOUD_WORKERS}
  Admin token       in ${join(ctx.stateDir, 'secrets.json')} (adminToken)
  Logs              ${join(ctx.stateDir, 'logs')}/
`);
    await new Promise(() => undefined);
    return 0;
  } catch (err) {
    process.stderr.write(`\nvsc topology failed: ${err instanceof Error ? err.message : String(err)}\n`);
    await stop(1);
    return 1;
  }
}
