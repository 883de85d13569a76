import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { AgentErrorType, tableLabelOf, type DataExtractOutputT, type DataLoadOutputT, type TableRef } from '@vansales/protocol';
import { BufferError, type DataBuffer } from '@vansales/buffer';
import { chunkedExtract, chunkedLoad, DataflowError, type DataflowErrorCode, mapColumns, openDataConnection, planTableRead, ReadPlanError, type ColumnSpec, type DataConnection, type ExtractPosition } from '@vansales/dataflow';
import type { CloudDatabases } from './cloud-databases';

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
  keyColumns: string[];
  objectId: string;
  createIfMissing?: boolean;
}

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

const DATAFLOW_FAILURE_TYPES: Partial<Record<DataflowErrorCode, string>> = {
  UNMAPPABLE_TYPE: AgentErrorType.unmappableType,
  BAD_VALUE: AgentErrorType.writeFailed,
  WRITE_FAILED: AgentErrorType.writeFailed,
  DDL_FAILED: AgentErrorType.writeFailed,
  BAD_CHUNK: AgentErrorType.bufferRefused,
  CHUNK_TOO_LARGE: AgentErrorType.bufferRefused,
  BAD_IDENTIFIER: AgentErrorType.badInput,
  BAD_REQUEST: AgentErrorType.badInput,
  CANCELLED: AgentErrorType.cancelled,
  CONNECTION_FAILED: AgentErrorType.databaseUnavailable,
};

/** The same failure types as the agent's, so workflows and retry policies treat both alike. */
function failure(err: unknown): Error {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof BufferError) return ApplicationFailure.create({ type: AgentErrorType.bufferRefused, message: err.message, nonRetryable: true });
  if (err instanceof ReadPlanError) return ApplicationFailure.create({ type: AgentErrorType.badInput, message: err.message, nonRetryable: true });
  if (err instanceof DataflowError) {
    const type = DATAFLOW_FAILURE_TYPES[err.code] ?? AgentErrorType.sqlError;
    return ApplicationFailure.create({ type, message: err.message, nonRetryable: !err.retryable });
  }
  // Anything else (network, a restarting database) is worth Temporal's retry.
  return err instanceof Error ? err : new Error(String(err));
}

export function createCloudDataActivities(deps: { buffer: DataBuffer; databases: CloudDatabases }): CloudDataActivities {
  const open = async (tenantId: string, database: string): Promise<DataConnection> => {
    const config = deps.databases.lookup(tenantId, database);
    if (!config) throw ApplicationFailure.create({ type: AgentErrorType.unknownDatabase, message: `tenant ${tenantId} has no cloud database named ${database}`, nonRetryable: true });
    return openDataConnection(config);
  };

  return {
    async cloudExtract(input) {
      const ctx = Context.current();
      const resume = ctx.info.heartbeatDetails as (ExtractPosition & { objectId?: string }) | undefined;
      const conn = await open(input.tenantId, input.database);
      try {
        const described = await conn.describeTable(input.table);
        if (!described) throw ApplicationFailure.create({ type: AgentErrorType.sqlError, message: `table ${tableLabelOf(input.database, input.table)} does not exist`, nonRetryable: true });
        const resumed = resume?.objectId === input.objectId ? resume : undefined;
        const plan = planTableRead({ table: input.table, described, columns: input.columns, keyColumns: input.keyColumns, incremental: input.incremental, after: resumed?.after });
        await deps.buffer.createObject(input.tenantId, { objectId: input.objectId });
        const end = await chunkedExtract(
          conn,
          { ...plan, chunkRows: input.chunkRows ?? 50_000, start: resumed ?? { chunksDone: 0, rowsDone: 0 }, signal: ctx.cancellationSignal },
          { put: async (index, bytes, rows) => void (await deps.buffer.writeChunk(input.tenantId, input.objectId, index, bytes, rows)) },
          (position) => ctx.heartbeat({ objectId: input.objectId, ...position }),
        );
        const cursor = input.incremental ? { column: input.incremental.column, max: end.cursorMax ?? input.incremental.after ?? null } : undefined;
        await deps.buffer.commit(input.tenantId, input.objectId, {
          schema: { columns: plan.columns, keyColumns: plan.keyColumns, dialect: conn.dialect, source: input.table.name },
          chunkCount: end.chunksDone,
          rowCount: end.rowsDone,
          meta: cursor ? { cursor } : {},
        });
        return { objectId: input.objectId, rowCount: end.rowsDone, chunkCount: end.chunksDone, keyColumns: plan.keyColumns, ...(cursor ? { cursor } : {}) };
      } catch (err) {
        throw failure(err);
      } finally {
        await conn.close().catch(() => undefined);
      }
    },

    async cloudLoad(input) {
      const ctx = Context.current();
      const resume = ctx.info.heartbeatDetails as { objectId?: string; chunksDone?: number; rowsDone?: number; created?: boolean } | undefined;
      const resumed = resume?.objectId === input.objectId ? resume : undefined;
      const conn = await open(input.tenantId, input.database);
      try {
        const manifest = await deps.buffer.readManifest(input.tenantId, input.objectId);
        const schema = manifest.schema as { columns: ColumnSpec[]; keyColumns: string[] };
        const target = tableLabelOf(input.database, input.table);
        let created = resumed?.created ?? false;
        let columns: ColumnSpec[];
        if (!(await conn.tableExists(input.table))) {
          if (input.createIfMissing === false) throw ApplicationFailure.create({ type: AgentErrorType.sqlError, message: `table ${target} does not exist and createIfMissing is false`, nonRetryable: true });
          columns = mapColumns(schema.columns, conn.dialect, target);
          await conn.createTable(input.table, columns, input.keyColumns);
          created = true;
        } else {
          const existing = (await conn.describeTable(input.table))!;
          columns = schema.columns.map((c) => {
            const there = existing.columns.find((e) => e.name === c.name);
            if (!there) throw ApplicationFailure.create({ type: AgentErrorType.writeFailed, message: `table ${target} has no column ${c.name} (the buffer object has it)`, nonRetryable: true });
            return there;
          });
        }
        await chunkedLoad(
          conn,
          { table: input.table, columns, keyColumns: input.keyColumns, startChunk: resumed?.chunksDone ?? 0, startRows: resumed?.rowsDone ?? 0, signal: ctx.cancellationSignal },
          { count: manifest.chunks.length, get: (index) => deps.buffer.readChunk(input.tenantId, input.objectId, index) },
          (done) => ctx.heartbeat({ objectId: input.objectId, ...done, created }),
        );
        return { rowCount: manifest.rowCount, chunkCount: manifest.chunks.length, created };
      } catch (err) {
        throw failure(err);
      } finally {
        await conn.close().catch(() => undefined);
      }
    },

    async purgeExpiredBuffer() {
      return deps.buffer.purgeExpired();
    },
  };
}
