import { Context } from '@temporalio/activity';
import { type DataExtractOutputT, type DataLoadOutputT, type TableRef } from '@vansales/protocol';
import { activityFailure } from './activity-failure';
import { BufferError, BufferErrorCode, type BufferManifest, type DataBuffer } from '@vansales/buffer';
import {
  ALLOW_ALL,
  extractTable,
  loadObject,
  resumeState,
  type DataConnection,
  type ExtractPosition,
  type FollowedObject,
  type LoadProgress,
} from '@vansales/dataflow';
import { openCloudDatabase, type CloudDatabases } from './cloud-databases';

export interface CloudExtractInput {
  tenantId: string;
  /** A database of this tenant that the cloud reaches directly. */
  database: string;
  table: TableRef;
  columns?: string[];
  keyColumns?: string[];
  incremental?: { column: string; after?: unknown };
  chunkRows?: number;
  objectId: string;
}

export interface CloudLoadInput {
  tenantId: string;
  database: string;
  table: TableRef;
  /** Default: the key columns the extract published with the object's schema. */
  keyColumns?: string[];
  objectId: string;
  createIfMissing?: boolean;
  /**
   * Load while the extract still writes the object (started with it, not after it): chunks are
   * loaded as they are stored and the manifest seals them. Without it the object must be committed.
   */
  follow?: boolean;
}

/** How long a following load waits for its extract to create the object (an offline agent's extract waits too). */
const FOLLOW_CREATE_TIMEOUT_MS = 60 * 60 * 1000;

export interface PurgeOutput {
  objectsDeleted: number;
  bytesFreed: number;
}

/** Cloud-side twins of the agent's extract and load, for databases the cloud can reach, and the buffer purge. */
export interface CloudDataActivities {
  cloudExtract(input: CloudExtractInput): Promise<DataExtractOutputT>;
  cloudLoad(input: CloudLoadInput): Promise<DataLoadOutputT>;
  purgeExpiredBuffer(): Promise<PurgeOutput>;
}

/**
 * The cloud's side of dataflow's pipeline: rows come from (or go to) a database the tenant lets the
 * cloud reach, chunks go straight to the store, and the policy allows everything the tenant is
 * entitled to (the lookup below is that entitlement).
 */
export function createCloudDataActivities(deps: {
  buffer: DataBuffer;
  databases: CloudDatabases;
}): CloudDataActivities {
  const open = (tenantId: string, database: string): Promise<DataConnection> =>
    openCloudDatabase(deps.databases, tenantId, database);

  return {
    async cloudExtract(input) {
      const ctx = Context.current();
      const conn = await open(input.tenantId, input.database);
      try {
        const result = await extractTable(
          conn,
          {
            database: input.database,
            table: input.table,
            columns: input.columns,
            keyColumns: input.keyColumns,
            incremental: input.incremental,
            chunkRows: input.chunkRows ?? 50_000,
            policy: ALLOW_ALL,
            resume: resumeState<ExtractPosition & { objectId: string }>(
              ctx.info.heartbeatDetails,
              (r) => r.objectId === input.objectId,
            ),
            signal: ctx.cancellationSignal,
          },
          {
            begin: async () => void (await deps.buffer.createObject(input.tenantId, { objectId: input.objectId })),
            publishSchema: (schema) => deps.buffer.publishSchema(input.tenantId, input.objectId, schema),
            put: async (index, bytes, rows) =>
              void (await deps.buffer.writeChunk(input.tenantId, input.objectId, index, bytes, rows)),
            commit: async (manifest) => void (await deps.buffer.commit(input.tenantId, input.objectId, manifest)),
          },
          (position) => ctx.heartbeat({ objectId: input.objectId, ...position }),
        );
        return { objectId: input.objectId, ...result };
      } catch (err) {
        throw activityFailure(err);
      } finally {
        await conn.close().catch(() => undefined);
      }
    },

    async cloudLoad(input) {
      const ctx = Context.current();
      let progress: LoadProgress | undefined;
      const followed = (): FollowedObject => {
        let sealed: BufferManifest | undefined;
        // Heartbeats go on while the extract has nothing new stored, so a slow extract is not a hung load.
        const onWait = () => ctx.heartbeat({ objectId: input.objectId, ...progress });
        const reading = deps.buffer.followObject(input.tenantId, input.objectId, {
          signal: ctx.cancellationSignal,
          // The extract may wait for its agent as long as the sync lets a site be offline; the
          // workflow cancels this load when the extract fails.
          createTimeoutMs: FOLLOW_CREATE_TIMEOUT_MS,
          onWait,
        });
        return {
          schema: () => reading.schema(),
          async *chunks() {
            for await (const chunk of reading) yield chunk;
            sealed = reading.manifest;
          },
          sealed: () => ({ chunkCount: sealed!.chunks.length, rowCount: sealed!.rowCount }),
          changedUnderFollower: (err) => err instanceof BufferError && err.code === BufferErrorCode.tampered,
        };
      };
      try {
        return await loadObject(
          () => open(input.tenantId, input.database),
          {
            database: input.database,
            table: input.table,
            keyColumns: input.keyColumns,
            createIfMissing: input.createIfMissing !== false,
            policy: ALLOW_ALL,
            objectId: input.objectId,
            resume: resumeState<LoadProgress & { objectId: string }>(
              ctx.info.heartbeatDetails,
              (r) => r.objectId === input.objectId,
            ),
            signal: ctx.cancellationSignal,
          },
          {
            manifest: async () => {
              const manifest = await deps.buffer.readManifest(input.tenantId, input.objectId);
              return { schema: manifest.schema, chunkCount: manifest.chunks.length, rowCount: manifest.rowCount };
            },
            chunk: (index) => deps.buffer.readChunk(input.tenantId, input.objectId, index),
          },
          (done) => {
            progress = done;
            ctx.heartbeat({ objectId: input.objectId, ...done });
          },
          input.follow ? followed() : undefined,
        );
      } catch (err) {
        throw activityFailure(err);
      }
    },

    async purgeExpiredBuffer() {
      return deps.buffer.purgeExpired();
    },
  };
}
