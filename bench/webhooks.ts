import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import pino from 'pino';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import {
  DEFINITION_FORMAT,
  DEFINITION_WORKFLOW,
  DefinitionDocument,
  definitionRunWorkflowId,
  type DefinitionRunInput,
  type DefinitionVersion,
} from '@vansales/definitions';
import { createGateway, loadGatewayConfig, type Logger } from '@vansales/gateway';
import {
  connectTemporalClient,
  failureConverterPath,
  SearchAttribute,
  temporalConnectionOptions,
  vansalesDataConverter,
} from '@vansales/temporal-config';
import { cliOption, cpuSeconds, emit, freshDatabase, percentile, platformEnv, round, services } from './support';

/*
 * Verified webhooks per second and time to acknowledge through the real gateway (its own process:
 * signature check, metadata look-ups, body into the buffer, StartWorkflow on the Temporal dev server,
 * then the 2xx), beside Temporal's own StartWorkflow throughput from a plain client in the same run
 * (the server's ceiling). Same count, same concurrency, same workflow type and input size; rounds
 * alternate so both see the same machine. A third process runs a stand-in for the interpreter that
 * ends at once, so no run is left open.
 *
 *   ./vsc bench webhooks [--requests 3000] [--concurrency 32] [--rounds 2]
 */

const ROLE = cliOption('role');
const TENANT = 'bench-hooks';
const DEFINITION = 'orders';
const BODY = JSON.stringify({
  type: 'order.created',
  data: { id: 0, customer: 'c-1042', lines: Array.from({ length: 8 }, (_, i) => ({ sku: `sku-${i}`, qty: i + 1 })) },
});

function publishedVersion(): DefinitionVersion {
  return {
    tenantId: TENANT,
    definitionId: DEFINITION,
    version: 1,
    hash: 'b'.repeat(64),
    document: DefinitionDocument.parse({
      format: DEFINITION_FORMAT,
      name: 'orders',
      triggers: [{ kind: 'webhook', scheme: 'standard-webhooks' }],
      steps: [{ id: 'pause', kind: 'wait', duration: '1s' }],
      edges: [],
    }),
    createdAt: new Date().toISOString(),
    publishedAt: new Date().toISOString(),
  };
}

/** The gateway process: the real gateway; the definition is created and published through its REST API. */
async function serveGateway(): Promise<void> {
  const silent = pino({ level: 'warn' }) as unknown as Logger;
  const gateway = await createGateway(loadGatewayConfig(process.env), silent);
  const address = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  const admin = async (url: string, payload: object) => {
    const res = await gateway.app.inject({
      method: 'POST',
      url,
      payload,
      headers: { authorization: `Bearer ${process.env.VSC_ADMIN_TOKEN}` },
    });
    if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    return res.json() as Record<string, unknown>;
  };
  await admin('/v1/tenants', { id: TENANT, name: 'bench' });
  const created = await admin(`/v1/tenants/${TENANT}/definitions`, {
    id: DEFINITION,
    document: publishedVersion().document,
  });
  const published = await admin(`/v1/tenants/${TENANT}/definitions/${DEFINITION}/publish`, {
    version: (created.version as { version: number }).version,
  });
  const hook = published.webhook as { path: string; secret: string };
  process.stdout.write(`${JSON.stringify({ address, path: hook.path, secret: hook.secret })}\n`);
  process.once('SIGTERM', () => void gateway.close().then(() => process.exit(0)));
}

/** The stand-in interpreter's Worker. */
async function serveWorker(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const options = temporalConnectionOptions(loadGatewayConfig(process.env));
  const worker = await Worker.create({
    connection: await NativeConnection.connect(options),
    namespace: services.temporalNamespace,
    taskQueue: process.env.VSC_WORKFLOW_TASK_QUEUE!,
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: require.resolve('./stand-ins/definition-workflow'),
      failureConverterPath: failureConverterPath(),
      logger: new DefaultLogger('WARN'),
    }),
    dataConverter: vansalesDataConverter(process.env.VSC_PAYLOAD_KEYS!),
    maxConcurrentWorkflowTaskExecutions: 64,
  });
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  process.once('SIGTERM', () => worker.shutdown());
  await worker.run();
  process.exit(0);
}

function child(
  role: string,
  env: Record<string, string>,
): { proc: ChildProcess; first: Promise<Record<string, string>> } {
  // VSC_BENCH_CPU_PROF=<folder>: the gateway writes a V8 CPU profile there (read it with cpu-profile-summary.ts).
  const profile = role === 'gateway' && process.env.VSC_BENCH_CPU_PROF;
  const flags = profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [];
  const proc = spawn(process.execPath, [...flags, '--import', 'tsx', __filename, '--role', role], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = new Promise<Record<string, string>>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${role} process exited (${code}) before it was ready`)));
    createInterface({ input: proc.stdout! }).once('line', (line) =>
      resolve(JSON.parse(line) as Record<string, string>),
    );
  });
  return { proc, first };
}

/** Runs `count` calls `concurrency` at a time; latency of each in ms, and the wall time. */
async function load(
  count: number,
  concurrency: number,
  call: (i: number) => Promise<boolean>,
): Promise<{ latencies: number[]; seconds: number; failures: number }> {
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        const ok = await call(i).catch(() => false);
        latencies.push(performance.now() - t0);
        if (!ok) failures++;
      }
    }),
  );
  return { latencies: latencies.sort((a, b) => a - b), seconds: (performance.now() - started) / 1000, failures };
}

function summary(
  path: string,
  round_: number,
  r: Awaited<ReturnType<typeof load>>,
  extra: Record<string, unknown> = {},
) {
  const ok = r.latencies.length - r.failures;
  return {
    bench: 'webhooks',
    path,
    round: round_,
    requests: r.latencies.length,
    failures: r.failures,
    per_second: round(ok / r.seconds, 1),
    p50_ms: round(percentile(r.latencies, 50)),
    p99_ms: round(percentile(r.latencies, 99)),
    max_ms: round(r.latencies[r.latencies.length - 1] ?? NaN),
    ...extra,
  };
}

async function main(): Promise<void> {
  if (ROLE === 'gateway') return serveGateway();
  if (ROLE === 'worker') return serveWorker();
  const requests = Number(cliOption('requests') ?? 3000);
  const concurrency = Number(cliOption('concurrency') ?? 32);
  const rounds = Number(cliOption('rounds') ?? 2);
  const suffix = randomBytes(4).toString('hex');
  const db = await freshDatabase('vsc_bench_wh');
  const env = { ...platformEnv(suffix, db.url), VSC_GATEWAY_CLUSTER: 'off' };
  const gatewayProc = child('gateway', env);
  const workerProc = child('worker', env);
  const [gw] = await Promise.all([gatewayProc.first, workerProc.first]);
  const { address, path, secret } = gw as { address: string; path: string; secret: string };
  const url = new URL(path, address);
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });

  const options = temporalConnectionOptions(loadGatewayConfig(env));
  const connection = await connectTemporalClient(options);
  const temporal = new Client({
    connection,
    namespace: services.temporalNamespace,
    dataConverter: vansalesDataConverter(env.VSC_PAYLOAD_KEYS),
  });
  const version = publishedVersion();

  const deliverOne = (id: string): Promise<boolean> => {
    // Signed as a sender would, with Node's crypto (independently of the gateway's verifier).
    const ts = Math.floor(Date.now() / 1000);
    const signature = createHmac('sha256', key).update(`${id}.${ts}.${BODY}`).digest('base64');
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(BODY),
            'webhook-id': id,
            'webhook-timestamp': String(ts),
            'webhook-signature': `v1,${signature}`,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode === 202));
        },
      );
      req.on('error', reject);
      req.end(BODY);
    });
  };
  const startOne = async (id: string): Promise<boolean> => {
    // The same start the gateway makes, with an input of the same shape and size.
    const input: DefinitionRunInput = {
      tenantId: TENANT,
      definitionId: DEFINITION,
      version: 1,
      hash: version.hash,
      document: version.document,
      input: {
        webhook: {
          hookId: path.split('/').pop(),
          deliveryId: id,
          receivedAt: new Date().toISOString(),
          headers: { 'webhook-id': id, 'content-type': 'application/json' },
          body: { objectId: `wh${randomBytes(20).toString('hex')}`, rows: 1, columns: ['body'], writtenBy: 'cloud' },
        },
      },
      trigger: { kind: 'webhook', id },
    };
    await temporal.workflow.start(DEFINITION_WORKFLOW, {
      taskQueue: env.VSC_WORKFLOW_TASK_QUEUE,
      workflowId: definitionRunWorkflowId(TENANT, DEFINITION, `peer-${id}`),
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: SearchAttribute.TenantId, value: TENANT },
        { key: SearchAttribute.DefinitionId, value: DEFINITION },
      ],
    });
    return true;
  };

  // Warm-up: connections, the JIT, the first look-ups.
  await load(200, concurrency, (i) => deliverOne(`warm-${suffix}-${i}`));
  await load(200, concurrency, (i) => startOne(`warm-${suffix}-${i}`));

  const ours: number[] = [];
  const peer: number[] = [];
  const p99s: number[] = [];
  const ratios: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    const direct = await load(requests, concurrency, (i) => startOne(`r${r}-${suffix}-${i}`));
    emit(summary('temporal-start-workflow', r, direct, { concurrency }));
    peer.push(direct.failures ? NaN : requests / direct.seconds);

    const cpu0 = cpuSeconds(gatewayProc.proc.pid!);
    const hooks = await load(requests, concurrency, (i) => deliverOne(`r${r}-${suffix}-${i}`));
    const gatewayCpu = cpuSeconds(gatewayProc.proc.pid!) - cpu0;
    emit(
      summary('webhook-verified-ack', r, hooks, {
        concurrency,
        gateway_cpu_pct: round((gatewayCpu / hooks.seconds) * 100, 1),
      }),
    );
    ours.push((requests - hooks.failures) / hooks.seconds);
    p99s.push(percentile(hooks.latencies, 99));
    // Each round's ratio against the server's ceiling measured just before it.
    ratios.push(ours[ours.length - 1]! / peer[peer.length - 1]!);
  }
  const best = (xs: number[]) => Math.max(...xs.filter((x) => !Number.isNaN(x)));
  emit({
    bench: 'webhooks',
    summary: true,
    verified_per_second: round(best(ours), 1),
    temporal_starts_per_second: round(best(peer), 1),
    ratio_to_temporal_by_round: ratios.map((r) => round(r, 3)),
    p99_ack_ms: round(Math.min(...p99s)),
    targets: { verified_per_second: 220, p99_ack_ms: 100 },
    load_average: (await import('node:os')).loadavg().map((l) => round(l)),
  });

  agent.destroy();
  await connection.close();
  gatewayProc.proc.kill('SIGTERM');
  workerProc.proc.kill('SIGTERM');
  await Promise.all(
    [gatewayProc.proc, workerProc.proc].map(
      (p) => new Promise((resolve) => (p.exitCode !== null ? resolve(null) : p.once('exit', resolve))),
    ),
  );
  await db.drop();
}

void main().catch((err) => {
  process.stderr.write(`webhooks bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
