import { join } from 'node:path';
import { type Connection } from '@temporalio/client';
import { connectTemporalClient, ensureNamespace } from '@vansales/temporal-config';
import { canProvideGoBinary, ensureGoBinary, TEMPORAL_CLI } from '../install';
import { binCacheDir, repoRoot } from '../paths';
import type { LaunchSpec, ServiceContext, ServiceSpec } from '../service';
import { ownedTree, reachableBinary, serviceAccount } from './system-user';

export const TEMPORAL_NAMESPACE = 'vansales';

let binary: string | undefined;

export function temporalAddress(ctx: Pick<ServiceContext, 'ports'>): string {
  return `127.0.0.1:${ctx.ports.temporal}`;
}

async function withConnection<T>(ctx: ServiceContext, fn: (c: Connection) => Promise<T>): Promise<T> {
  const connection = await connectTemporalClient({ address: temporalAddress(ctx), connectTimeout: 2000 });
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}

export const temporalService: ServiceSpec = {
  name: 'temporal',
  ports: (ctx) => [ctx.ports.temporal, ctx.ports.temporalUi, ctx.ports.temporalHttp, ctx.ports.temporalMetrics],
  readyTimeoutMs: 60_000,
  install(ctx) {
    // Without Go, @temporalio/testing downloads the CLI instead (needs internet).
    if (canProvideGoBinary(TEMPORAL_CLI)) binary = ensureGoBinary(TEMPORAL_CLI, ctx.log);
    else ctx.log('Go is not installed: the Temporal dev server will be downloaded by @temporalio/testing');
  },
  prepare(ctx) {
    // As root, the dev server runs as the services' own account (not root), in a folder only it can open.
    ownedTree(join(ctx.stateDir, 'temporal'), serviceAccount());
  },
  launch(ctx): LaunchSpec {
    if (!binary && !canProvideGoBinary(TEMPORAL_CLI)) {
      return {
        command: process.execPath,
        args: [join(repoRoot, 'infra', 'dist', 'temporal-download.js')],
        env: {
          VSC_TEMPORAL_DOWNLOAD_SETTINGS: JSON.stringify({
            ip: '127.0.0.1',
            port: ctx.ports.temporal,
            uiPort: ctx.ports.temporalUi,
            httpPort: ctx.ports.temporalHttp,
            metricsPort: ctx.ports.temporalMetrics,
            dbFilename: join(ctx.stateDir, 'temporal', 'temporal.db'),
            downloadDir: binCacheDir(),
          }),
        },
      };
    }
    const owner = serviceAccount();
    return {
      command: reachableBinary(binary ?? ensureGoBinary(TEMPORAL_CLI, ctx.log), ctx.stateDir, owner),
      user: owner,
      // Root's home is closed to the account; the CLI looks for its config file under HOME.
      env: owner ? { HOME: join(ctx.stateDir, 'temporal') } : {},
      args: [
        'server',
        'start-dev',
        // A db file keeps workflow state across restarts.
        '--db-filename',
        join(ctx.stateDir, 'temporal', 'temporal.db'),
        '--ip',
        '127.0.0.1',
        '--port',
        String(ctx.ports.temporal),
        '--ui-port',
        String(ctx.ports.temporalUi),
        '--http-port',
        String(ctx.ports.temporalHttp),
        '--metrics-port',
        String(ctx.ports.temporalMetrics),
        '--log-level',
        'warn',
        // SQLite's default (rollback journal, synchronous=FULL) syncs the disk several times per
        // transaction, and Temporal commits one on every state change: about 20 ms per step of a
        // workflow (activity scheduled, started, completed, workflow task) on a VM disk, ~100 ms
        // between two activities. A write-ahead log synced at checkpoints still survives a crash of
        // the server process (only an OS crash can lose the last commits), which is what a
        // single-machine install needs; a production cluster brings its own database.
        '--sqlite-pragma',
        'journal_mode=wal',
        '--sqlite-pragma',
        'synchronous=normal',
        // History reads its transfer queue (activity and workflow tasks on their way to matching) at
        // most 20 times a second per shard by default, and the dev server has one shard: each hop of
        // an activity cycle waited up to 50 ms for that read, a flat ~100 ms between two activities
        // of a workflow whatever the worker did. Reads happen on notification, so this costs nothing idle.
        '--dynamic-config-value',
        'history.transferProcessorMaxPollRPS=1000',
        // One partition per task queue: a connector queue has one poller (its agent's Worker), and
        // with the default four partitions a task written to a partition the poller is not on waits
        // for forwarding (2 s stalls at p99, a quarter of the throughput of a cloud queue).
        '--dynamic-config-value',
        'matching.numTaskqueueReadPartitions=1',
        '--dynamic-config-value',
        'matching.numTaskqueueWritePartitions=1',
        // In the dev profile the gateway decodes encrypted payloads for the Web UI.
        ...(ctx.profile === 'dev' ? ['--ui-codec-endpoint', `http://127.0.0.1:${ctx.ports.gateway}/v1/codec`] : []),
      ],
    };
  },
  async ready(ctx) {
    return withConnection(ctx, async (c) => {
      await c.workflowService.getSystemInfo({});
      return true;
    });
  },
  async afterReady(ctx) {
    const result = await withConnection(ctx, (c) => ensureNamespace(c, TEMPORAL_NAMESPACE));
    if (result.namespaceCreated) ctx.log(`temporal: created namespace ${TEMPORAL_NAMESPACE}`);
    if (result.searchAttributesAdded.length)
      ctx.log(`temporal: added search attributes ${result.searchAttributesAdded.join(', ')}`);
  },
};
