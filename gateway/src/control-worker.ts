import { type NativeConnection, Worker } from '@temporalio/worker';
import type { Logger } from './logger';
import type { DefinitionControlActivities } from '@vansales/definitions';

export interface ControlWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  dataConverter: Parameters<typeof Worker.create>[0]['dataConverter'];
  activities: DefinitionControlActivities;
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
  let worker: Worker | undefined;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    let delayMs = 500;
    while (!stopped) {
      try {
        worker = await Worker.create({
          connection: options.connection,
          namespace: options.namespace,
          taskQueue: options.taskQueue,
          dataConverter: options.dataConverter,
          activities: options.activities,
          maxConcurrentActivityTaskExecutions: 20,
        });
        if (stopped) break;
        delayMs = 500;
        await worker.run();
      } catch (err) {
        if (stopped) break;
        options.log.error(
          { err: (err as Error).message, taskQueue: options.taskQueue, retryInMs: delayMs },
          'the control worker stopped; starting it again',
        );
      }
      worker = undefined;
      if (stopped) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, delayMs).unref();
      });
      delayMs = Math.min(delayMs * 2, 30_000);
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      if (worker?.getState() === 'RUNNING') worker.shutdown();
      await loop;
    },
  };
}
