import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TransformOp } from '@vansales/definitions';
import { TransformError, TransformErrorCode } from '../errors';
import type { ObjectReader, ObjectWriter, TransformObjectOptions } from '../transform-object';
import type { FromWorker, ToWorker, WireError, WorkerStart } from './messages';
import { startWorkerEntry } from './worker-entry';

export interface TransformInWorkerOptions extends TransformObjectOptions {
  /** Aborting terminates the worker at once; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

function revive(error: WireError): Error {
  if (error.kind === 'transform')
    return new TransformError(error.code, error.message, {
      ...(error.record !== undefined ? { record: error.record } : {}),
      ...(error.field !== undefined ? { field: error.field } : {}),
    });
  return new Error(error.message);
}

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * transformObjects in a worker thread of its own, with its heap capped by the limits (workerHeapMb,
 * workerYoungMb): the records, the hash tables and the engine's garbage live in the worker, so the
 * process stays within its budget whatever the transform does, and a transform that goes past its
 * heap ends as a TransformError (MEMORY_LIMIT) while the host carries on. The host does the buffer
 * I/O (the reader's and writer's calls keep their clients, grants and errors: a buffer error comes
 * back as the error the host's call threw). The spill folder is the host's: removed whatever way the
 * worker ends (out of memory, cancelled, crashed), where a terminated worker could not clean up.
 */
export async function transformObjectsInWorker(
  op: TransformOp,
  inputs: { left: ObjectReader; right?: ObjectReader },
  output: ObjectWriter,
  options: TransformInWorkerOptions,
): Promise<{ rows: number; columns: string[] }> {
  const { limits, signal } = options;
  signal?.throwIfAborted();
  const spillDir = await mkdtemp(join(limits.spillDir, 'vsc-transform-worker-'));
  try {
    await chmod(spillDir, 0o700);
    return await run(op, inputs, output, options, spillDir);
  } finally {
    await rm(spillDir, { recursive: true, force: true });
  }
}

function run(
  op: TransformOp,
  inputs: { left: ObjectReader; right?: ObjectReader },
  output: ObjectWriter,
  options: TransformInWorkerOptions,
  spillDir: string,
): Promise<{ rows: number; columns: string[] }> {
  const { limits, signal } = options;
  const info = (r: ObjectReader) => ({ schema: r.schema, rowCount: r.rowCount, chunkCount: r.chunkCount });
  const start: WorkerStart = {
    op,
    limits: { ...limits, spillDir },
    ...(options.rowsPerChunk !== undefined ? { rowsPerChunk: options.rowsPerChunk } : {}),
    left: info(inputs.left),
    ...(inputs.right ? { right: info(inputs.right) } : {}),
  };
  // dist/transform-worker.js beside a process bundle's main (tsup.process.ts), else the source through tsx.
  const worker = startWorkerEntry(__dirname, 'transform-worker', {
    workerData: start,
    resourceLimits: { maxOldGenerationSizeMb: limits.workerHeapMb, maxYoungGenerationSizeMb: limits.workerYoungMb },
  });

  return new Promise((resolve, reject) => {
    let settled = false;
    /** The first error a host-side call threw: the worker's failure is that error, as the host saw it. */
    let hostError: unknown;
    const onAbort = () => finish(signal!.reason ?? new Error('the transform was cancelled'));
    function finish(err: unknown, result?: { rows: number; columns: string[] }) {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      // Waited for: the worker's spill files are removed only once it is gone.
      void worker.terminate().then(
        () => (err === undefined ? resolve(result!) : reject(err)),
        () => (err === undefined ? resolve(result!) : reject(err)),
      );
    }
    signal?.addEventListener('abort', onAbort, { once: true });

    const answer = (id: number, call: () => Promise<Uint8Array | undefined>) => {
      call().then(
        (bytes) => {
          if (settled) return;
          const reply: ToWorker = { type: 'reply', id, ...(bytes ? { bytes } : {}) };
          worker.postMessage(reply, bytes ? [bytes.buffer as ArrayBuffer] : []);
        },
        (err: unknown) => {
          hostError ??= err;
          if (!settled) worker.postMessage({ type: 'reply', id, error: errorMessage(err) } satisfies ToWorker);
        },
      );
    };

    worker.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'read': {
          const from = m.side === 'left' ? inputs.left : inputs.right!;
          // A copy of its own, moved to the worker: the reader's buffer may be a slice of a larger one.
          answer(m.id, async () => new Uint8Array(await from.chunk(m.index)));
          return;
        }
        case 'open':
          answer(m.id, async () => {
            await output.open?.();
            return undefined;
          });
          return;
        case 'write':
          answer(m.id, async () => {
            await output.chunk(m.index, Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength), m.rows);
            return undefined;
          });
          return;
        case 'commit':
          answer(m.id, async () => {
            await output.commit(m.body);
            return undefined;
          });
          return;
        case 'progress':
          options.progress?.(m.progress);
          return;
        case 'done':
          finish(undefined, m.result);
          return;
        case 'failed':
          finish(hostError ?? revive(m.error));
          return;
      }
    });
    worker.on('error', (err: Error & { code?: string }) => {
      finish(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new TransformError(
              TransformErrorCode.memoryLimit,
              `the transform went past its memory limit (a heap of ${limits.workerHeapMb} MB): ` +
                'lower memoryRecords or memoryBytes so it spills sooner, or raise workerHeapMb',
            )
          : new Error(`the transform's worker thread failed: ${err.message}`, { cause: err }),
      );
    });
    worker.on('exit', (code) =>
      finish(new Error(`the transform's worker thread stopped (exit code ${code}) before it finished`)),
    );
  });
}
