import type { ColumnSpec } from '../types/canonical-type';
import { type TableRef } from '@vansales/protocol';
import type { DataConnection } from '../types/data-connection';
import { decodeChunk } from '../chunk-codec';
import { rowChecker, type RowProblem } from '../values/check-values';

export interface ChunkSource {
  count: number;
  get(index: number): Promise<Buffer>;
}

/** Chunks in index order as they become readable (a followed object), from the plan's `startChunk` on. */
export type ChunkStream = AsyncIterable<{ index: number; bytes: Buffer }>;

export interface ChunkedLoadPlan {
  table: TableRef;
  /** The destination's columns, in the order of the values in each stored row. */
  columns: ColumnSpec[];
  keyColumns: string[];
  startChunk: number;
  startRows: number;
  signal?: AbortSignal;
  /**
   * The table was created empty by this load: chunks go in with a plain insert (PostgreSQL: one
   * COPY, no staging table, no conflict check) until one meets a key already there (a chunk loaded
   * again, or rewritten by a retried extract); that chunk and the rest are upserted.
   */
  freshTable?: boolean;
  /** Turns an unreadable chunk into the caller's error. */
  onBadChunk?: (index: number, err: Error) => Error;
  /**
   * The columns the chunks' writer declared (a manifest): every value is checked against them
   * before its chunk is written, and `refuse` makes the error for the first one that contradicts them.
   */
  declared?: { columns: ColumnSpec[]; refuse: (index: number, problem: RowProblem) => Error };
}

/**
 * Upserts stored chunks into a table, one transaction per chunk, from `startChunk` on. Repeating
 * a chunk is harmless (upsert by key), so a retry may resume at the last chunk reported done.
 */
export async function chunkedLoad(
  conn: DataConnection,
  plan: ChunkedLoadPlan,
  chunks: ChunkSource | ChunkStream,
  onChunk: (done: { chunksDone: number; rowsDone: number }) => void,
): Promise<{ rowsDone: number }> {
  let rowsDone = plan.startRows;
  let insertFirst = plan.freshTable === true;
  const check = plan.declared && rowChecker(plan.declared.columns);
  const stored = Symbol.asyncIterator in chunks ? chunks : storedChunks(chunks, plan.startChunk);
  // Decode-ahead: the next chunk is fetched, inflated, parsed and checked while the current one is
  // written (the database works while our thread decodes). At most one decoded chunk waits, and
  // the fetch after it: a chunk's rows, the next one's rows and the one after's bytes.
  const decode = async ({ index, bytes }: { index: number; bytes: Buffer }) => {
    let rows: unknown[][];
    try {
      rows = await decodeChunk(bytes);
    } catch (err) {
      throw plan.onBadChunk ? plan.onBadChunk(index, err as Error) : err;
    }
    // The whole chunk before any of it: a refused chunk writes nothing.
    const problem = check?.(rows);
    if (problem) throw plan.declared!.refuse(index, problem);
    return { index, rows };
  };
  for await (const { index, rows } of readAhead(mapped(readAhead(stored), decode))) {
    const write = (mode: 'insert' | 'upsert') =>
      conn.writeRows(plan.table, plan.columns, rows, { mode, keyColumns: plan.keyColumns, signal: plan.signal });
    if (insertFirst) {
      // An insert is one statement: a key conflict writes nothing of the chunk, so upserting it after is exact.
      await write('insert').catch((err: unknown) => {
        if (!isDuplicateKey(err)) throw err;
        insertFirst = false;
        return write('upsert');
      });
    } else {
      await write('upsert');
    }
    rowsDone += rows.length;
    onChunk({ chunksDone: index + 1, rowsDone });
  }
  return { rowsDone };
}

/** A unique violation of the destination's key (PostgreSQL 23505, MySQL/MariaDB 1062). */
function isDuplicateKey(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown; errno?: unknown } } | undefined)?.cause;
  return cause?.code === '23505' || cause?.errno === 1062;
}

/** Each item of `source` through `f`, one at a time, in order. */
async function* mapped<T, U>(source: AsyncIterable<T>, f: (item: T) => Promise<U>): AsyncGenerator<U, void, undefined> {
  for await (const item of source) yield await f(item);
}

async function* storedChunks(chunks: ChunkSource, from: number): ChunkStream {
  for (let index = from; index < chunks.count; index++) yield { index, bytes: await chunks.get(index) };
}

/**
 * The next item is made while the current one is used (a chunk fetched, or decoded, while the
 * current one is written): the store, our thread and the database work at once. At most one item
 * waits ahead; a failure surfaces when its item's turn comes, so the chunks before it are written.
 */
async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
  const it = source[Symbol.asyncIterator]();
  let next = it.next();
  try {
    for (;;) {
      const current = await next;
      if (current.done) return;
      next = it.next();
      next.catch(() => undefined);
      yield current.value;
    }
  } finally {
    // Stops the source (a follower's polling) when the load ends early; its pending fetch is dropped.
    void it.return?.()?.catch(() => undefined);
  }
}
