import type { TransformOp } from '@vansales/definitions';
import type { ObjectSchema } from '@vansales/dataflow';
import type { TransformErrorCode } from '../errors';
import type { TransformLimits } from '../limits';
import type { TransformProgress } from '../transform-object';

/**
 * What the host and a transform's worker thread say to each other. The worker asks for each input
 * chunk and hands over each output chunk, one at a time: buffer I/O (and its grants and clients)
 * stays in the host, the records stay in the worker, and at most one chunk is in flight each way.
 */

/** The worker's start: the op and limits, and what the worker knows of each input without reading it. */
export interface WorkerStart {
  op: TransformOp;
  limits: TransformLimits;
  rowsPerChunk?: number;
  left: InputInfo;
  right?: InputInfo;
}

export interface InputInfo {
  schema: ObjectSchema;
  rowCount: number;
  chunkCount: number;
}

/** An error crossing the thread boundary: the engine's own (code kept) or anything else (message only). */
export type WireError =
  | { kind: 'transform'; code: TransformErrorCode; message: string; record?: number; field?: string }
  | { kind: 'other'; message: string };

export type FromWorker =
  | { type: 'read'; id: number; side: 'left' | 'right'; index: number }
  | { type: 'open'; id: number }
  | { type: 'write'; id: number; index: number; bytes: Uint8Array; rows: number }
  | { type: 'commit'; id: number; body: { schema: ObjectSchema; chunkCount: number; rowCount: number } }
  | { type: 'progress'; progress: TransformProgress }
  | { type: 'done'; result: { rows: number; columns: string[] } }
  | { type: 'failed'; error: WireError };

/** The host's answer to a read/open/write/commit: bytes for a read, an error when the host's side failed. */
export type ToWorker = { type: 'reply'; id: number; bytes?: Uint8Array; error?: string };
