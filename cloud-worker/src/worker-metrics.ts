import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory, NativeConnection, Worker } from '@temporalio/worker';
import type { DataBuffer } from '@vansales/buffer';
import { AgentErrorType } from '@vansales/protocol';
import {
  boundedLabel,
  bufferBytesCounter,
  createMetricsRegistry,
  taskMetrics,
  type ReadinessProbe,
  type Registry,
} from '@vansales/metrics';

/** Failure types worth a series of their own; any other is `other`. */
const OUTCOMES = new Set<string>(['ok', 'cancelled', ...Object.values(AgentErrorType)]);

export interface CloudWorkerMetrics {
  registry: Registry;
  /** Times every cloud activity by type and outcome (activity types bounded by the registered ones). */
  interceptor(activityTypes: readonly string[]): ActivityInterceptorsFactory;
  /** The buffer with its chunk bytes counted (in: written, out: read). */
  countBuffer(buffer: DataBuffer): DataBuffer;
}

/** The cloud worker's own metrics (cloud-worker/README.md "Metrics"); Temporal's come from its exporter. */
export function createCloudWorkerMetrics(version: string): CloudWorkerMetrics {
  const registry = createMetricsRegistry('cloud_worker', version);
  const tasks = taskMetrics(registry, 'cloud_worker', 'Cloud activities this worker ran');
  const bytes = bufferBytesCounter(registry, 'cloud_worker');
  return {
    registry,
    interceptor(activityTypes) {
      const known = new Set(activityTypes);
      return () => ({
        inbound: {
          async execute(input, next) {
            const operation = boundedLabel(Context.current().info.activityType, known);
            const started = process.hrtime.bigint();
            const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
            try {
              const result = await next(input);
              tasks.observe({ operation, outcome: 'ok' }, seconds());
              return result;
            } catch (err) {
              const type = Context.current().cancellationSignal.aborted
                ? 'cancelled'
                : err instanceof ApplicationFailure
                  ? (err.type ?? undefined)
                  : undefined;
              tasks.observe({ operation, outcome: boundedLabel(type, OUTCOMES) }, seconds());
              throw err;
            }
          },
        },
      });
    },
    countBuffer(buffer) {
      // A proxy, not a copy: DataBuffer is a class whose other methods use `this`.
      return new Proxy(buffer, {
        get(target, key, receiver) {
          if (key === 'writeChunk')
            return async (...args: Parameters<DataBuffer['writeChunk']>) => {
              const result = await target.writeChunk(...args);
              bytes.inc({ direction: 'in' }, args[3].length);
              return result;
            };
          if (key === 'readChunk')
            return async (...args: Parameters<DataBuffer['readChunk']>) => {
              const chunk = await target.readChunk(...args);
              bytes.inc({ direction: 'out' }, chunk.length);
              return chunk;
            };
          const value = Reflect.get(target, key, receiver) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
}

/** Ready: Temporal's frontend answers and every Worker of this process is running. */
export function cloudWorkerReadiness(connection: NativeConnection, workers: () => Worker[]): ReadinessProbe {
  return async () => {
    const temporal = await connection.workflowService.getSystemInfo({}).then(
      () => ({ ok: true, message: 'Temporal frontend answers' }),
      (err: unknown) => ({ ok: false, message: `Temporal unreachable: ${(err as Error).message}` }),
    );
    const states = workers().map((w) => w.getState());
    const running = states.length > 0 && states.every((s) => s === 'RUNNING');
    return {
      temporal,
      workers: {
        ok: running,
        message: states.length ? `workers ${states.join(', ')}` : 'no worker started yet',
      },
    };
  };
}
