import { type ActivityInterceptorsFactory, type NativeConnection, Worker } from '@temporalio/worker';
import type { Logger } from './logger';

export interface ControlWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  dataConverter: Parameters<typeof Worker.create>[0]['dataConverter'];
  /** The control activities (definitions, cursors, sync plans and state), by name. */
  activities: object;
  /** Around each control activity (a span per activity when tracing is on). */
  activityInterceptors?: ActivityInterceptorsFactory[];
  log: Logger;
}

/**
 * The interpreter's control activities (definitions of call steps, incremental cursors) served by
 * this gateway, which owns the metadata store. Every gateway node polls the same queue, so any of
 * them answers. A Worker that stops on its own (Temporal unreachable too long) is created again
 * with backoff: a gateway that silently stopped serving would leave runs waiting forever.
 */
export function startControlWorker(options: ControlWorkerOptions): { stop(): Promise<void> } {
  let stopped = false;
  let stop!: () => void;
  // runUntil this: a Worker created while the gateway was closing still starts and drains at once,
  // so none keeps a reference to the connection the gateway closes next.
  const stopping = new Promise<void>((resolve) => (stop = resolve));
  const loop = (async () => {
    let delayMs = 500;
    while (!stopped) {
      try {
        const worker = await Worker.create({
          connection: options.connection,
          namespace: options.namespace,
          taskQueue: options.taskQueue,
          dataConverter: options.dataConverter,
          activities: options.activities,
          interceptors: { activity: options.activityInterceptors ?? [] },
          maxConcurrentActivityTaskExecutions: 20,
        });
        delayMs = 500;
        await worker.runUntil(stopping);
      } catch (err) {
        if (stopped) break;
        options.log.error(
          { err: (err as Error).message, taskQueue: options.taskQueue, retryInMs: delayMs },
          'the control worker stopped; starting it again',
        );
      }
      if (stopped) break;
      await Promise.race([stopping, new Promise((resolve) => setTimeout(resolve, delayMs).unref())]);
      delayMs = Math.min(delayMs * 2, 30_000);
    }
  })();
  return {
    async stop() {
      stopped = true;
      stop();
      await loop;
    },
  };
}
