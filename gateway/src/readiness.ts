import { sql } from 'kysely';
import type { Connection } from '@temporalio/client';
import { isBufferError, type DataBuffer } from '@vansales/buffer';
import type { MetadataDb } from '@vansales/metadata';
import type { SessionCluster } from './agent-hub/session-cluster';

export const READINESS_DEPENDENCIES = ['temporal', 'metadataStore', 'redis', 'bufferStore'] as const;
export type ReadinessDependency = (typeof READINESS_DEPENDENCIES)[number];
export interface DependencyState {
  ok: boolean;
  message: string;
}
export type ReadinessCheck = () => Promise<Record<ReadinessDependency, DependencyState>>;

/** Each probe gives up after this long: a readiness answer that hangs is no answer for a load balancer. */
const PROBE_TIMEOUT_MS = 2000;

async function probe(what: string, run: () => Promise<string>): Promise<DependencyState> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const message = await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, message };
  } catch (err) {
    // Driver messages name hosts and ports at most; connection strings are never part of them.
    return { ok: false, message: `${what}: ${(err as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What `GET /readyz` asks: every dependency a request or an agent session needs, each probed with
 * the lightest call that proves it answers.
 */
export function readinessChecks(deps: {
  temporalConnection: Connection;
  db: MetadataDb;
  cluster: SessionCluster;
  buffer: DataBuffer;
}): ReadinessCheck {
  return async () => {
    const [temporal, metadataStore, redis, bufferStore] = await Promise.all([
      probe('Temporal unreachable', async () => {
        await deps.temporalConnection.workflowService.getSystemInfo({});
        return 'Temporal frontend answers';
      }),
      probe('metadata store unreachable', async () => {
        await sql`select 1`.execute(deps.db);
        return 'metadata store answers';
      }),
      deps.cluster.check().then(
        (s) => s,
        (err: unknown) => ({ ok: false, message: `Redis check failed: ${(err as Error).message}` }),
      ),
      probe('buffer store unreachable', async () => {
        // A read of an object that cannot exist: "not found" proves the store answers, without writing anything.
        await deps.buffer.readManifest('readiness-probe', 'readiness-probe-object').catch((err: unknown) => {
          if (!isBufferError(err, 'NOT_FOUND') && !isBufferError(err, 'EXPIRED')) throw err;
        });
        return 'buffer store answers';
      }),
    ]);
    return { temporal, metadataStore, redis, bufferStore };
  };
}
