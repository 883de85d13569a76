import { tableLabel, type TableRef } from '@vansales/protocol';
import { DataflowError, DataflowErrorCode } from '../errors';
import type { DataConnection } from '../types/data-connection';
import { chunkedLoad } from './chunked-load';
import type { DataPolicy } from './data-policy';
import { assertWritable, prepareDestination } from './destination';
import { parseObjectSchema } from './object-schema';

/** A committed buffer object, wherever it is stored. */
export interface StoredObject {
  manifest(): Promise<{ schema: unknown; chunkCount: number; rowCount: number }>;
  chunk(index: number): Promise<Buffer>;
}

export interface LoadProgress {
  chunksDone: number;
  rowsDone: number;
  created: boolean;
}

export interface LoadObjectRequest {
  database: string;
  table: TableRef;
  keyColumns: string[];
  createIfMissing: boolean;
  policy: DataPolicy;
  /** For messages. */
  objectId: string;
  /** Where a retry of the same object resumes. */
  resume?: Partial<LoadProgress>;
  signal?: AbortSignal;
}

/**
 * Writes a buffer object into a table, upserting by key columns, one transaction per chunk.
 * The policy is checked before the manifest is fetched or the database opened: a refused load
 * touches nothing. A retry resumes at the first chunk not reported done; upserting makes a
 * repeated chunk harmless.
 */
export async function loadObject(
  open: () => Promise<DataConnection>,
  request: LoadObjectRequest,
  object: StoredObject,
  onChunk: (progress: LoadProgress) => void,
): Promise<{ rowCount: number; chunkCount: number; created: boolean }> {
  const { objectId } = request;
  assertWritable(request.policy, request.database, request.table);
  const manifest = await object.manifest();
  const schema = parseObjectSchema(manifest.schema, objectId);
  for (const k of request.keyColumns) {
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
      columns: schema.columns,
      origin: 'the buffer object',
    });
    const created = destination.created || (request.resume?.created ?? false);
    await chunkedLoad(
      conn,
      {
        table: request.table,
        columns: destination.columns,
        keyColumns: request.keyColumns,
        startChunk: request.resume?.chunksDone ?? 0,
        startRows: request.resume?.rowsDone ?? 0,
        signal: request.signal,
        onBadChunk: (index, err) =>
          new DataflowError(
            DataflowErrorCode.BAD_CHUNK,
            `chunk ${index} of buffer object ${objectId} is unreadable: ${err.message}`,
            { cause: err },
          ),
        declared: {
          columns: schema.columns,
          refuse: (index, problem) =>
            new DataflowError(
              DataflowErrorCode.BAD_VALUE,
              `chunk ${index} of buffer object ${objectId} contradicts its manifest at row ${problem.row + 1}${problem.column === undefined ? '' : `, column ${problem.column}`}: the row ${problem.column === undefined ? '' : 'value '}${problem.message}; nothing of that chunk was written`,
              {
                table: tableLabel(request.table),
                row: problem.row,
                ...(problem.column === undefined ? {} : { column: problem.column }),
              },
            ),
        },
      },
      { count: manifest.chunkCount, get: (index) => object.chunk(index) },
      (done) => onChunk({ ...done, created }),
    );
    return { rowCount: manifest.rowCount, chunkCount: manifest.chunkCount, created };
  } finally {
    await conn.close().catch(() => undefined);
  }
}
