import { parentPort, workerData } from 'node:worker_threads';
import { isTransformError } from '../errors';
import { transformObjects, type ObjectReader } from '../transform-object';
import type { FromWorker, InputInfo, ToWorker, WireError, WorkerStart } from './messages';

/**
 * The entry of a transform's worker thread (its own file: each process bundle builds it beside its
 * main, see tsup.process.ts). It runs transformObjects over inputs and an output that are requests
 * to the host, and reports the result or the failure; the host terminates it then.
 */
const port = parentPort!;
const start = workerData as WorkerStart;

let nextId = 0;
const waiting = new Map<number, { resolve(m: ToWorker): void; reject(err: Error): void }>();
port.on('message', (m: ToWorker) => {
  const w = waiting.get(m.id);
  if (!w) return;
  waiting.delete(m.id);
  if (m.error !== undefined) w.reject(new Error(m.error));
  else w.resolve(m);
});

/** A request to the host, answered by its reply (transfers the bytes of a chunk written). */
function ask(message: FromWorker & { id: number }, transfer: ArrayBuffer[] = []): Promise<ToWorker> {
  return new Promise((resolve, reject) => {
    waiting.set(message.id, { resolve, reject });
    port.postMessage(message, transfer);
  });
}

function reader(side: 'left' | 'right', info: InputInfo): ObjectReader {
  return {
    ...info,
    chunk: async (index) => {
      const reply = await ask({ type: 'read', id: nextId++, side, index });
      const bytes = reply.bytes!;
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
  };
}

function wire(err: unknown): WireError {
  if (isTransformError(err))
    return {
      kind: 'transform',
      code: err.code,
      message: err.message,
      ...(err.details.record !== undefined ? { record: err.details.record } : {}),
      ...(err.details.field !== undefined ? { field: err.details.field } : {}),
    };
  return { kind: 'other', message: err instanceof Error ? err.message : String(err) };
}

transformObjects(
  start.op,
  { left: reader('left', start.left), ...(start.right ? { right: reader('right', start.right) } : {}) },
  {
    open: async () => {
      await ask({ type: 'open', id: nextId++ });
    },
    chunk: async (index, bytes, rows) => {
      // A copy of its own, moved to the host (no second copy on the way).
      const copy = new Uint8Array(bytes);
      await ask({ type: 'write', id: nextId++, index, bytes: copy, rows }, [copy.buffer]);
    },
    commit: async (body) => {
      await ask({ type: 'commit', id: nextId++, body });
    },
  },
  {
    limits: start.limits,
    ...(start.rowsPerChunk !== undefined ? { rowsPerChunk: start.rowsPerChunk } : {}),
    progress: (progress) => port.postMessage({ type: 'progress', progress } satisfies FromWorker),
  },
).then(
  (result) => port.postMessage({ type: 'done', result } satisfies FromWorker),
  (err: unknown) => port.postMessage({ type: 'failed', error: wire(err) } satisfies FromWorker),
);
