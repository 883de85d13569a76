import { Context } from '@temporalio/activity';
import type { DataBuffer } from '@vansales/buffer';
import {
  ALLOW_ALL,
  deleteObjectKeys,
  extractRanges,
  rangeChecksums,
  type DataConnection,
  type KeyRange,
} from '@vansales/dataflow';
import type { SyncStateStore } from '@vansales/definitions';
import {
  type SyncChecksumOutputT,
  type SyncDeleteOutputT,
  type SyncExtractOutputT,
  type TableRef,
} from '@vansales/protocol';
import { activityFailure } from './activity-failure';
import { createSyncStateActivities, syncObjects, type SyncStateActivities } from '../control/sync-state-activities';
export type { SyncPlanInput, SyncPlanObjects, SyncPlanOutput } from '../control/sync-state-activities';
import { openCloudDatabase, type CloudDatabases } from './cloud-databases';

interface CloudSyncTable {
  tenantId: string;
  database: string;
  table: TableRef;
  keyColumns: string[];
  columns?: string[];
}
export interface CloudSyncChecksumInput extends CloudSyncTable {
  ranges?: KeyRange[];
}
export interface CloudSyncExtractInput extends CloudSyncTable {
  ranges: KeyRange[];
  objectId: string;
  chunkRows?: number;
}
export interface CloudSyncDeleteInput {
  tenantId: string;
  database: string;
  table: TableRef;
  keyColumns: string[];
  objectId: string;
}

/** Cloud activities of the sync step: the cloud database's twins of the site's sync operations, the plan, and its state. */
export interface SyncActivities extends SyncStateActivities {
  cloudSyncChecksum(input: CloudSyncChecksumInput): Promise<SyncChecksumOutputT>;
  cloudSyncExtract(input: CloudSyncExtractInput): Promise<SyncExtractOutputT>;
  cloudSyncDelete(input: CloudSyncDeleteInput): Promise<SyncDeleteOutputT>;
}

export interface SyncActivityDeps {
  buffer: DataBuffer;
  databases: CloudDatabases;
  state: SyncStateStore;
}

/**
 * The cloud's side of a bi-directional sync (pattern 3.4.3) and its merge. The plan reads the
 * rows of the differing ranges of both sides (buffer objects), the state of their keys, decides per
 * key (dataflow's decideKey) and writes what each side must upsert and delete, and the state to
 * record after, as buffer objects: rows never pass through workflow history.
 */
export function createSyncActivities(deps: SyncActivityDeps): SyncActivities {
  const withConn = async <T>(tenantId: string, database: string, fn: (conn: DataConnection) => Promise<T>) => {
    const conn = await openCloudDatabase(deps.databases, tenantId, database);
    try {
      return await fn(conn);
    } catch (err) {
      throw activityFailure(err);
    } finally {
      await conn.close().catch(() => undefined);
    }
  };
  const { manifestOf } = syncObjects(deps);
  return {
    cloudSyncChecksum: (input) =>
      withConn(input.tenantId, input.database, (conn) =>
        rangeChecksums(conn, { ...input, policy: ALLOW_ALL, signal: Context.current().cancellationSignal }),
      ),

    cloudSyncExtract: (input) =>
      withConn(input.tenantId, input.database, async (conn) => {
        const ctx = Context.current();
        const result = await extractRanges(
          conn,
          { ...input, chunkRows: input.chunkRows ?? 50_000, policy: ALLOW_ALL, signal: ctx.cancellationSignal },
          {
            begin: async () => void (await deps.buffer.createObject(input.tenantId, { objectId: input.objectId })),
            put: async (index, bytes, rows) =>
              void (await deps.buffer.writeChunk(input.tenantId, input.objectId, index, bytes, rows)),
            commit: async (manifest) => void (await deps.buffer.commit(input.tenantId, input.objectId, manifest)),
          },
          (position) => ctx.heartbeat({ objectId: input.objectId, chunksDone: position.chunksDone }),
        );
        return { objectId: input.objectId, ...result };
      }),

    cloudSyncDelete: async (input) => {
      const { manifest } = await manifestOf(input.tenantId, input.objectId);
      return withConn(input.tenantId, input.database, (conn) =>
        deleteObjectKeys(
          conn,
          { ...input, policy: ALLOW_ALL, signal: Context.current().cancellationSignal },
          {
            chunkCount: manifest.chunks.length,
            chunk: (i) => deps.buffer.readChunk(input.tenantId, input.objectId, i),
          },
        ),
      );
    },

    ...createSyncStateActivities(deps),
  };
}
