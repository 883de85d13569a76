import type { DataConnection, ReadSource } from '../types/data-connection';
import { ChunkEncoder } from '../chunk-codec';

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
 *
 * Memory is bounded by the read's batch, not the chunk: each batch is encoded into the chunk as it
 * comes (`ChunkEncoder`), and one finished chunk is stored while the next is read. The read waits
 * while the compressor or the store is behind (the reader's own queue then pauses the socket).
 */
export async function chunkedExtract(
  conn: DataConnection,
  plan: ChunkedExtractPlan,
  sink: ChunkSink,
  onChunk: (position: ExtractPosition) => void,
): Promise<ExtractPosition> {
  const position: ExtractPosition = { ...plan.start };
  let nextIndex = position.chunksDone;
  let encoder: ChunkEncoder | undefined;
  /** Order-by values of the last row in `encoder` (read before the policy's masks). */
  let after: unknown[] | undefined;
  // Positions are reported in order, each only after its chunk is stored.
  let inFlight: Promise<void> = Promise.resolve();
  const flush = async () => {
    if (!encoder) return;
    const chunk = encoder;
    encoder = undefined;
    const rows = chunk.rows;
    const chunkAfter = after;
    const cursorMax = position.cursorMax;
    const index = nextIndex++;
    const bytes = await chunk.finish();
    await inFlight;
    inFlight = (async () => {
      await sink.put(index, bytes, rows);
      position.chunksDone = index + 1;
      position.rowsDone += rows;
      if (chunkAfter) position.after = chunkAfter;
      onChunk({ ...position, cursorMax });
    })();
    inFlight.catch(() => undefined);
  };
  try {
    for await (const batch of conn.readRows(plan.source, {
      batchSize: Math.min(plan.chunkRows, 10_000),
      signal: plan.signal,
    })) {
      for (let start = 0; start < batch.length;) {
        encoder ??= new ChunkEncoder();
        const take = Math.min(batch.length - start, plan.chunkRows - encoder.rows);
        const part = take === batch.length ? batch : batch.slice(start, start + take);
        start += take;
        if (plan.cursorIndex >= 0)
          for (const row of part) if (row[plan.cursorIndex] !== null) position.cursorMax = row[plan.cursorIndex];
        const last = part[part.length - 1]!;
        if (plan.orderIndexes.length) after = plan.orderIndexes.map((i) => last[i]);
        if (plan.protect) for (const row of part) plan.protect(row);
        await encoder.add(part);
        if (encoder.rows >= plan.chunkRows) await flush();
      }
    }
    await flush();
    await inFlight;
  } catch (err) {
    encoder?.destroy();
    throw err;
  }
  return position;
}
