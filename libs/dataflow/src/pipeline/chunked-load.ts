import type { ColumnSpec } from '../types/canonical-type';
import { type TableRef } from '@vansales/protocol';
import type { DataConnection } from '../types/data-connection';
import { chunkRowGroups, inflateChunk, releaseChunkText } from '../chunk-codec';
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
  declared?: {
    columns: ColumnSpec[];
    /** `problem.row` counts from the chunk's first row; `rowsWritten` of the chunk went in before it. */
    refuse: (index: number, problem: RowProblem, rowsWritten: number) => Error;
  };
  /** Rows parsed and written at a time (default LOAD_GROUP_ROWS). */
  groupRows?: number;
}

/**
 * A chunk is written in groups of this many rows, each parsed from the chunk's inflated text just
 * before its turn: a load holds two groups of rows (the one written, the one parsed ahead), not two
 * chunks of 50,000 (bench/README.md, data-transfer: the combined cloud worker's load was over 300 MB).
 */
export const LOAD_GROUP_ROWS = 10_000;

/** Rows parsed between turns of the event loop (about a millisecond of JSON.parse). */
const PARSE_SLICE_ROWS = 1_000;

/**
 * Upserts stored chunks into a table, one statement per row group of a chunk, from `startChunk` on.
 * Progress is reported per whole chunk, and repeating a chunk or part of it is harmless (upsert by
 * key), so a retry may resume at the last chunk reported done.
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
  const groupRows = plan.groupRows ?? LOAD_GROUP_ROWS;
  const bad = (index: number, err: unknown) => (plan.onBadChunk ? plan.onBadChunk(index, err as Error) : err);
  // Read-ahead: the next group is parsed and checked (and, at a chunk's end, the next chunk fetched
  // and inflated) while the current one is written: the store, our thread and the database work at
  // once, with one group of rows waiting, the inflated text of its chunk and the fetch after it.
  async function* groups(): AsyncGenerator<Group, void, undefined> {
    for await (const { index, bytes } of readAhead(stored)) {
      let text: Buffer;
      try {
        text = await inflateChunk(bytes);
      } catch (err) {
        throw bad(index, err);
      }
      // A connection that inserts lines as they are (MySQL's LOAD DATA transcoded from the bytes)
      // gets the group's lines unparsed: parsing, checking and encoding every value as JavaScript
      // was most of the agent's CPU on the cloud -> site path (bench/README.md, data-transfer).
      // The whole chunk goes as one statement: its lines are already in memory, and the server
      // streams them in (a statement per 10,000 rows left the server idle between statements).
      if (conn.insertLines && insertFirst) {
        const count = countLines(text);
        yield { index, lines: text, count, first: 0, chunkRows: count };
        continue;
      }
      // Parsed a slice at a time, with a turn of the event loop between slices: the write before this
      // group (its file handed to the database as the server asks for it) goes on while this one is
      // parsed, instead of waiting for a whole group's parse (measured: bench/README.md, data-transfer).
      const slice = Math.min(groupRows, PARSE_SLICE_ROWS);
      const parsed = chunkRowGroups(text, slice);
      let first = 0;
      let ended = false;
      while (!ended) {
        const rows: unknown[][] = [];
        while (!ended && rows.length < groupRows) {
          let next: IteratorResult<{ rows: unknown[][]; last: boolean }, void>;
          try {
            next = parsed.next();
          } catch (err) {
            throw bad(index, err);
          }
          // The generator always ends on a group marked last; done without one would be its bug, not a loop.
          if (next.done) {
            ended = true;
            break;
          }
          for (const row of next.value.rows) rows.push(row);
          ended = next.value.last;
          if (!ended) await new Promise<void>((resolve) => setImmediate(resolve));
        }
        const last = ended;
        checkGroup(index, rows, first);
        first += rows.length;
        yield { index, rows, first: first - rows.length, count: rows.length, chunkRows: last ? first : undefined };
      }
    }
  }
  /** Each group before any of it is written: a refused group writes nothing. */
  function checkGroup(index: number, rows: unknown[][], first: number): void {
    const problem = check?.(rows);
    if (problem) throw plan.declared!.refuse(index, { ...problem, row: first + problem.row }, first);
  }
  const writeGroup = async (rows: unknown[][]) => {
    const write = (mode: 'insert' | 'upsert') =>
      conn.writeRows(plan.table, plan.columns, rows, { mode, keyColumns: plan.keyColumns, signal: plan.signal });
    if (insertFirst) {
      // An insert is one statement: a key conflict writes nothing of the group, so upserting it after is exact.
      await write('insert').catch((err: unknown) => {
        if (!isDuplicateKey(err)) throw err;
        insertFirst = false;
        return write('upsert');
      });
    } else {
      await write('upsert');
    }
  };
  for await (const group of readAhead(groups())) {
    const { index, chunkRows } = group;
    if (group.rows) await writeGroup(group.rows);
    else if (group.count > 0) {
      const lines = group.lines!;
      const inserted = insertFirst
        ? await conn.insertLines!(plan.table, plan.columns, plan.declared?.columns, lines, group.count, {
            signal: plan.signal,
          })
        : undefined;
      // Lines the connection did not take go as rows, a group at a time: parsed, checked and written.
      if (!inserted) {
        const parsed = chunkRowGroups(lines, groupRows);
        let first = group.first;
        for (;;) {
          let next: IteratorResult<{ rows: unknown[][]; last: boolean }, void>;
          try {
            next = parsed.next();
          } catch (err) {
            throw bad(index, err);
          }
          if (next.done) break;
          checkGroup(index, next.value.rows, first);
          if (next.value.rows.length > 0) await writeGroup(next.value.rows);
          first += next.value.rows.length;
          if (next.value.last) break;
        }
      }
    }
    if (group.lines) releaseChunkText(group.lines);
    // Only once the chunk's last group is written is the chunk done (a retry resumes at a whole chunk).
    if (chunkRows !== undefined) {
      rowsDone += chunkRows;
      onChunk({ chunksDone: index + 1, rowsDone });
    }
  }
  return { rowsDone };
}

/**
 * A group of a chunk to write: its rows, or (for a connection that inserts lines) the whole chunk's
 * text, `count` non-empty NDJSON lines not yet parsed. `first`: rows of the chunk before it;
 * `chunkRows` on the chunk's last group.
 */
interface Group {
  index: number;
  rows?: unknown[][];
  lines?: Buffer;
  count: number;
  first: number;
  chunkRows: number | undefined;
}

/** Non-empty lines of a chunk's text (the row path skips empty ones). */
function countLines(text: Buffer): number {
  let count = 0;
  for (let p = 0; p < text.length;) {
    let eol = text.indexOf(0x0a, p);
    if (eol < 0) eol = text.length;
    if (eol > p) count++;
    p = eol + 1;
  }
  return count;
}

/** A unique violation of the destination's key (PostgreSQL 23505, MySQL/MariaDB 1062). */
function isDuplicateKey(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown; errno?: unknown } } | undefined)?.cause;
  return cause?.code === '23505' || cause?.errno === 1062;
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
