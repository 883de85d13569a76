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
  const readOptions = { batchSize: Math.min(plan.chunkRows, 10_000), signal: plan.signal };
  // Lines straight from the connection (PostgreSQL's COPY text made into the chunk's lines) when no
  // value needs JavaScript here: no mask to apply, no cursor maximum to follow row by row. The same
  // bytes as the rows path; the cloud worker's extract spent most of its CPU making and stringifying
  // rows (bench/README.md, data-transfer).
  const lineBatches = !plan.protect && plan.cursorIndex < 0 ? conn.readLines?.(plan.source, readOptions) : undefined;
  try {
    if (lineBatches) {
      for await (const batch of lineBatches) {
        let { lines } = batch;
        let rows = batch.rows;
        while (rows > 0) {
          encoder ??= new ChunkEncoder();
          const room = plan.chunkRows - encoder.rows;
          if (rows <= room) {
            if (plan.orderIndexes.length) after = plan.orderIndexes.map((i) => batch.last[i]);
            await encoder.addLines(lines, rows);
            rows = 0;
          } else {
            // The chunk ends inside the batch: its part up to the room-th line, whose row is the position.
            let end = 0;
            let lastStart = 0;
            for (let k = 0; k < room; k++) {
              lastStart = end;
              end = lines.indexOf(0x0a, end) + 1;
            }
            if (plan.orderIndexes.length) {
              const last = JSON.parse(lines.toString('utf8', lastStart, end)) as unknown[];
              after = plan.orderIndexes.map((i) => last[i]);
            }
            await encoder.addLines(lines.subarray(0, end), room);
            lines = lines.subarray(end);
            rows -= room;
          }
          if (encoder.rows >= plan.chunkRows) await flush();
        }
      }
      await flush();
      await inFlight;
      return position;
    }
    for await (const batch of conn.readRows(plan.source, readOptions)) {
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
