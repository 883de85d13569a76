import { tableLabel, type TableRef } from '@vansales/protocol';
import { DataflowError, DataflowErrorCode } from '../errors';
import type { DataConnection } from '../types/data-connection';
import { chunkedLoad, type ChunkedLoadPlan, type ChunkSource, type ChunkStream } from './chunked-load';
import type { DataPolicy } from './data-policy';
import { assertWritable, prepareDestination } from './destination';
import { parseObjectSchema } from './object-schema';

/** A committed buffer object, wherever it is stored. */
export interface StoredObject {
  manifest(): Promise<{ schema: unknown; chunkCount: number; rowCount: number }>;
  chunk(index: number): Promise<Buffer>;
}

/**
 * An object read while its writer still stores it (the buffer's followObject), so the load starts
 * on the first stored chunk instead of after the commit.
 */
export interface FollowedObject {
  /** The schema the writer published before its first chunk (or the manifest's). */
  schema(): Promise<unknown>;
  /** Chunks in order from chunk 0; ends once the manifest sealed the object and every chunk matched it. */
  chunks(): ChunkStream;
  /** After `chunks` ended: the sealed object's counts. */
  sealed(): { chunkCount: number; rowCount: number };
  /**
   * Whether a failure of `chunks` means the object changed under the follower (a retried writer
   * rewrote a chunk already loaded): the load then reads the committed object again from chunk 0.
   */
  changedUnderFollower(err: unknown): boolean;
}

export interface LoadProgress {
  chunksDone: number;
  rowsDone: number;
  created: boolean;
}

export interface LoadObjectRequest {
  database: string;
  table: TableRef;
  /** Default (for a followed object): the key columns its writer published with the schema. */
  keyColumns?: string[];
  createIfMissing: boolean;
  policy: DataPolicy;
  /** For messages. */
  objectId: string;
  /** Where a retry of the same object resumes. */
  resume?: Partial<LoadProgress>;
  signal?: AbortSignal;
}

/**
 * Writes a buffer object into a table, upserting by key columns, one statement per row group of a
 * chunk (`chunkedLoad`), progress per whole chunk.
 * The policy is checked before the manifest is fetched or the database opened: a refused load
 * touches nothing. A retry resumes at the first chunk not reported done; upserting makes a
 * repeated chunk harmless.
 *
 * Given a `follow` source, the load starts on the writer's published schema and loads chunks as
 * they are stored; the manifest, written last, seals what was loaded. A writer that is retried
 * rewrites chunks from its last reported one on, possibly split differently: when a chunk already
 * loaded turns out not to be the committed one, the committed object is loaded again from chunk 0
 * (upserts by key, so rows loaded twice are harmless, and every committed row is written). A retried
 * follower starts at chunk 0 too, because chunks it loaded before may have been rewritten since.
 */
export async function loadObject(
  open: () => Promise<DataConnection>,
  request: LoadObjectRequest,
  object: StoredObject,
  onChunk: (progress: LoadProgress) => void,
  follow?: FollowedObject,
): Promise<{ rowCount: number; chunkCount: number; created: boolean }> {
  const { objectId } = request;
  assertWritable(request.policy, request.database, request.table);
  let manifest = follow ? undefined : await object.manifest();
  const schema = parseObjectSchema(follow ? await follow.schema() : manifest!.schema, objectId);
  const keyColumns = request.keyColumns ?? schema.keyColumns;
  for (const k of keyColumns) {
    if (!schema.columns.some((c) => c.name === k)) {
      throw new DataflowError(
        DataflowErrorCode.BAD_REQUEST,
        `key column ${k} is not in buffer object ${objectId} (columns: ${schema.columns.map((c) => c.name).join(', ')})`,
        { column: k },
      );
    }
  }
  const conn = await open();
  try {
    const destination = await prepareDestination(conn, {
      ...request,
      keyColumns,
      columns: schema.columns,
      origin: 'the buffer object',
    });
    const created = destination.created || (request.resume?.created ?? false);
    const plan: Omit<ChunkedLoadPlan, 'startChunk' | 'startRows'> = {
      table: request.table,
      columns: destination.columns,
      keyColumns,
      signal: request.signal,
      // Created empty by this attempt: nothing to conflict with until a chunk comes again.
      freshTable: destination.created,
      onBadChunk: (index, err) =>
        new DataflowError(
          DataflowErrorCode.BAD_CHUNK,
          `chunk ${index} of buffer object ${objectId} is unreadable: ${err.message}`,
          { cause: err },
        ),
      declared: {
        columns: schema.columns,
        refuse: (index, problem, rowsWritten) =>
          new DataflowError(
            DataflowErrorCode.BAD_VALUE,
            `chunk ${index} of buffer object ${objectId} contradicts its manifest at row ${problem.row + 1}${problem.column === undefined ? '' : `, column ${problem.column}`}: the row ${problem.column === undefined ? '' : 'value '}${problem.message}; ${rowsWritten === 0 ? 'nothing of that chunk was written' : `its first ${rowsWritten} rows were written, nothing after them`}`,
            {
              table: tableLabel(request.table),
              row: problem.row,
              ...(problem.column === undefined ? {} : { column: problem.column }),
            },
          ),
      },
    };
    const load = (chunks: ChunkSource | ChunkStream, startChunk: number, startRows: number) =>
      chunkedLoad(conn, { ...plan, startChunk, startRows }, chunks, (done) => onChunk({ ...done, created }));
    if (follow) {
      try {
        await load(follow.chunks(), 0, 0);
        return { ...follow.sealed(), created };
      } catch (err) {
        if (!follow.changedUnderFollower(err)) throw err;
      }
    }
    manifest ??= await object.manifest();
    const resumed = follow ? undefined : request.resume;
    await load(
      { count: manifest.chunkCount, get: (index) => object.chunk(index) },
      resumed?.chunksDone ?? 0,
      resumed?.rowsDone ?? 0,
    );
    return { rowCount: manifest.rowCount, chunkCount: manifest.chunkCount, created };
  } finally {
    await conn.close().catch(() => undefined);
  }
}
