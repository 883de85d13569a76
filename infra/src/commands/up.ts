import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serviceContext } from '../context';
import { acquireLock } from '../lock';
import { Supervisor } from '../supervisor';
import { stopOnSignals } from './foreground';
import type { ServiceContext, ServiceSpec } from '../service';
import { temporalService, TEMPORAL_NAMESPACE } from '../services/temporal';
import { mariadbService } from '../services/mariadb';
import { redisService } from '../services/redis';
import { postgresService } from '../services/postgres';
import {
  agentProcess,
  cloudWorkerProcess,
  consoleProcess,
  consoleUrl,
  gatewayProcess,
  gatewayUrl,
} from '../services/platform';
import { ensureConsoleBuild } from '../console-build';
import { reclaimOrphans } from './test';
import { ensureTestTools } from '../install';
import { gatewayRequest } from './admin';
import { ensureFallbackDemo, ensureReadOnlyUser, ensureSakila } from '../demo-data';

const DEMO_TENANT = 'demo';
const DEMO_CONNECTOR = 'demo-site';
/** The demo tenant's first owner: who signs in to the console (the password is in secrets.json). */
const OWNER_EMAIL = 'owner@demo.example';

const api = <T>(ctx: ServiceContext, method: 'GET' | 'POST', path: string, body?: unknown) =>
  gatewayRequest<T>({ gatewayUrl: gatewayUrl(ctx), adminToken: ctx.secrets.adminToken }, method, path, body);

/**
 * The first owner, made through the admin token's bootstrap route on the first start (later starts
 * get 409: an account exists). Says how to sign in to the console, without printing the password.
 */
async function ensureFirstOwner(ctx: ServiceContext): Promise<string> {
  const res = await api<{ error?: { message?: string } }>(ctx, 'POST', '/v1/bootstrap', {
    email: OWNER_EMAIL,
    password: ctx.secrets.ownerPassword,
    displayName: 'Demo owner',
    tenantId: DEMO_TENANT,
    tenantName: 'Demo company',
  });
  const secrets = join(ctx.stateDir, 'secrets.json');
  if (res.status === 201 || res.status === 409)
    return `${OWNER_EMAIL}, password in ${secrets} (ownerPassword)${
      res.status === 409 ? ' unless changed since the first start' : ''
    }`;
  return `no first owner (${res.body.error?.message ?? `the gateway answered ${res.status}`}): connect with the admin token at /token`;
}

interface DemoConnector {
  id: string;
  apiKey?: string;
}

/** Creates the demo tenant and connector once; the key is written only into the agent's 0600 config. */
async function ensureDemoAgentConfig(ctx: ServiceContext): Promise<{ configPath: string; connectorId: string }> {
  const configPath = join(ctx.stateDir, 'agent.json');
  await api(ctx, 'POST', '/v1/tenants', { id: DEMO_TENANT, name: 'Demo company' });
  const list = await api<{ id: string; name: string }[]>(ctx, 'GET', `/v1/tenants/${DEMO_TENANT}/connectors`);
  let connector: DemoConnector | undefined = list.body.find((c) => c.name === DEMO_CONNECTOR);
  if (connector && existsSync(configPath)) return { configPath, connectorId: connector.id };
  if (connector) {
    // The config was lost: issue a fresh key for the existing connector.
    const key = await api<{ apiKey: string }>(
      ctx,
      'POST',
      `/v1/tenants/${DEMO_TENANT}/connectors/${connector.id}/keys`,
    );
    connector = { id: connector.id, apiKey: key.body.apiKey };
  } else {
    const created = await api<{ id: string; apiKey: string }>(ctx, 'POST', `/v1/tenants/${DEMO_TENANT}/connectors`, {
      name: DEMO_CONNECTOR,
    });
    if (created.status !== 201) throw new Error(`could not create the demo connector: ${JSON.stringify(created.body)}`);
    connector = created.body;
  }
  const readerPassword = randomBytes(18).toString('base64url');
  await ensureReadOnlyUser(ctx, 'demo_reader', readerPassword, 'sakila');
  const config = {
    gatewayUrl: `ws://127.0.0.1:${ctx.ports.gateway}/v1/agent/connect`,
    apiKey: connector.apiKey,
    concurrency: 4,
    databases: {
      sakila: {
        dialect: 'mysql',
        host: '127.0.0.1',
        port: ctx.ports.mariadb,
        user: 'demo_reader',
        password: readerPassword,
        database: 'sakila',
      },
    },
  };
  writeFileSync(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
  return { configPath, connectorId: connector.id };
}

/**
 * Earlier versions kept the gateway's metadata in PGlite under the state folder, which the cloud worker
 * could not open. It is left as it was (nothing is deleted); the demo tenant is made again in PostgreSQL.
 */
function noteRetiredEmbeddedStore(ctx: ServiceContext): void {
  const old = join(ctx.stateDir, 'metadata');
  if (existsSync(old))
    ctx.log(
      `metadata now lives in PostgreSQL; the earlier embedded store ${old} is no longer read (delete it when done)`,
    );
}

/** `vsc up`: the whole platform on this machine, in the foreground, until Ctrl-C. */
export async function up(): Promise<number> {
  const ctx = serviceContext('dev', (l) => process.stdout.write(`[vsc] ${l}\n`));
  const lock = acquireLock(ctx.stateDir, 'vsc up');
  const supervisor = new Supervisor(ctx);
  const started = Date.now();
  const stop = stopOnSignals(ctx, supervisor, lock);

  try {
    await reclaimOrphans(ctx, supervisor);
    // PostgreSQL holds the metadata store the gateway and the cloud worker share (services/metadata-store.ts).
    const infra: ServiceSpec[] = [temporalService, postgresService, mariadbService, redisService];
    for (const s of infra) await s.install?.(ctx);
    // oasdiff, which the gateway runs to compare API versions (the SDK factory's breaking changes).
    ensureTestTools(ctx.log);
    // Built once per source hash (cached per machine), before anything starts: a failed build stops nothing.
    const webConsole = consoleProcess(ensureConsoleBuild(ctx.log));
    // Port checks for everything first, so a taken port fails before anything starts.
    const { assertPortFree } = await import('../ports');
    for (const s of [...infra, gatewayProcess, webConsole])
      for (const p of s.ports(ctx)) await assertPortFree(p, s.name);

    await Promise.all(infra.map((s) => supervisor.start(s).then(() => ctx.log(`${s.name} ready`))));
    const demo = await ensureSakila(ctx);
    if (demo === 'missing-data') await ensureFallbackDemo(ctx);
    noteRetiredEmbeddedStore(ctx);
    await supervisor.start(gatewayProcess);
    ctx.log('gateway ready');
    await supervisor.start(cloudWorkerProcess);
    ctx.log('cloud worker ready');
    await supervisor.start(webConsole);
    ctx.log('console ready');
    const { configPath, connectorId } = await ensureDemoAgentConfig(ctx);
    await supervisor.start(
      agentProcess(configPath, async (c) => {
        const list = await api<{ id: string; online: boolean }[]>(c, 'GET', `/v1/tenants/${DEMO_TENANT}/connectors`);
        return list.body.some((x) => x.id === connectorId && x.online);
      }),
    );
    ctx.log('demo agent connected');
    const signIn = await ensureFirstOwner(ctx);

    const query = await api<{ workflowId: string; result?: { rows: unknown[][] }; error?: { message: string } }>(
      ctx,
      'POST',
      `/v1/tenants/${DEMO_TENANT}/queries`,
      {
        connectorId,
        database: 'sakila',
        sql: 'SELECT film_id, title, release_year FROM film ORDER BY film_id LIMIT 3',
      },
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const rows =
      query.body.result?.rows.map((r) => `      ${JSON.stringify(r)}`).join('\n') ??
      `      (query failed: ${query.body.error?.message})`;
    process.stdout.write(`
Vansales Connect is up (${seconds} s). Ctrl-C stops everything.

  Console           ${consoleUrl(ctx)} (gateway ${gatewayUrl(ctx)})
  Sign in as        ${signIn}
  Temporal Web UI   http://127.0.0.1:${ctx.ports.temporalUi}/namespaces/${TEMPORAL_NAMESPACE}/workflows
  Gateway health    ${gatewayUrl(ctx)}/healthz
  Gateway API doc   ${gatewayUrl(ctx)}/openapi.json
  Admin token       in ${join(ctx.stateDir, 'secrets.json')} (adminToken)
  Logs              ${join(ctx.stateDir, 'logs')}/

  Demo: tenant "${DEMO_TENANT}", connector ${connectorId} on MariaDB "sakila" (${demo === 'missing-data' ? 'small demo table' : 'Sakila'}).
  The first demo workflow ran as ${query.body.workflowId} and returned:
${rows}
  Run another:
    curl -s -X POST ${gatewayUrl(ctx)}/v1/tenants/${DEMO_TENANT}/queries \\
      -H "authorization: Bearer $(node -p 'require("${join(ctx.stateDir, 'secrets.json')}").adminToken')" \\
      -H 'content-type: application/json' \\
      -d '{"connectorId":"${connectorId}","database":"sakila","sql":"SELECT COUNT(*) FROM rental"}'

`);
    await new Promise(() => undefined);
    return 0;
  } catch (err) {
    process.stderr.write(`\nvsc up failed: ${err instanceof Error ? err.message : String(err)}\n`);
    await stop(1);
    return 1;
  }
}
