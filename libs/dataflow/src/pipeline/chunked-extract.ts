import type { DataConnection, ReadSource } from '../types/data-connection';
import { encodeChunk } from '../chunk-codec';

/** Where extracted chunks go: the buffer through the gateway (agent) or the store itself (cloud). */
export interface ChunkSink {
  put(index: number, bytes: Buffer, rows: number): Promise<void>;
}

/** A position a retried extract resumes from. */
export interface ExtractPosition {
  chunksDone: number;
  rowsDone: number;
  /** Order-by values of the last row of the last stored chunk. */
  after?: unknown[];
  cursorMax?: unknown;
}

export interface ChunkedExtractPlan {
  source: ReadSource;
  /** Positions (in each row) of the order-by columns, for the keyset position. */
  orderIndexes: number[];
  /** Position of the incremental cursor column, or -1. */
  cursorIndex: number;
  chunkRows: number;
  start: ExtractPosition;
  /** Applied to each row before it is stored (the site policy's masks), after positions are read. */
  protect?: (row: unknown[]) => void;
  signal?: AbortSignal;
}

/**
 * Streams a source into numbered chunks. Rows come in order-by order, so the last row of a chunk is
 * a resumable keyset position, and with a cursor first in that order it also holds the highest
 * cursor so far. `onChunk` is told after each chunk is stored (it becomes a heartbeat).
 */
export async function chunkedExtract(
  conn: DataConnection,
  plan: ChunkedExtractPlan,
  sink: ChunkSink,
  onChunk: (position: ExtractPosition) => void,
): Promise<ExtractPosition> {
  const position: ExtractPosition = { ...plan.start };
  let pending: unknown[][] = [];
  let nextIndex = position.chunksDone;
  // One chunk is compressed and stored while the next is read; positions are reported in order,
  // each only after its chunk is stored.
  let inFlight: Promise<void> = Promise.resolve();
  const flush = async () => {
    if (pending.length === 0) return;
    const rows = pending;
    pending = [];
    const last = rows[rows.length - 1]!;
    const after = plan.orderIndexes.length ? plan.orderIndexes.map((i) => last[i]) : undefined;
    const cursorMax = position.cursorMax;
    const index = nextIndex++;
    await inFlight;
    inFlight = (async () => {
      if (plan.protect) for (const row of rows) plan.protect(row);
      await sink.put(index, await encodeChunk(rows), rows.length);
      position.chunksDone = index + 1;
      position.rowsDone += rows.length;
      if (after) position.after = after;
      onChunk({ ...position, cursorMax });
    })();
    inFlight.catch(() => undefined);
  };
  for await (const batch of conn.readRows(plan.source, {
    batchSize: Math.min(plan.chunkRows, 10_000),
    signal: plan.signal,
  })) {
    for (const row of batch) {
      if (plan.cursorIndex >= 0 && row[plan.cursorIndex] !== null) position.cursorMax = row[plan.cursorIndex];
      pending.push(row);
      if (pending.length >= plan.chunkRows) await flush();
    }
  }
  await flush();
  await inFlight;
  return position;
}
