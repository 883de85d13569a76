import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The processes that expose metrics; the prefix of their own metric names (`vsc_<process>_…`). */
export type MetricsProcess = 'gateway' | 'agent' | 'cloud_worker';

/**
 * A fresh registry with Node's process metrics (`process_*`, `nodejs_*`, the standard names every
 * Prometheus dashboard knows) and a `vsc_build_info` gauge saying what runs. One registry per process,
 * never prom-client's global one: tests start several processes' worth of metrics in one jest worker.
 */
export function createMetricsRegistry(process: MetricsProcess, version: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'vsc_build_info',
    help: 'Always 1; the labels say which process and version answer.',
    labelNames: ['process', 'version'],
    registers: [registry],
  }).set({ process, version }, 1);
  return registry;
}

/**
 * Label values from a fixed set, anything else `other`: a label whose values come from the wire (an
 * operation name, an error type) must not grow the number of series without bound.
 */
export function boundedLabel(value: string | undefined, allowed: ReadonlySet<string>): string {
  return value !== undefined && allowed.has(value) ? value : 'other';
}

/**
 * Latency buckets in seconds, from a 5 ms answer to a 30 min extract (tasks run from a ping to a
 * transfer of millions of rows).
 */
export const TASK_SECONDS_BUCKETS = [0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 15, 60, 300, 900, 1800];

/** Tasks by type and outcome, and their latency: the same two metrics in each process that runs tasks. */
export interface TaskMetrics {
  /** `outcome` is `ok` or the failure's type (bounded by the caller). */
  observe(labels: { operation: string; outcome: string }, seconds: number): void;
}

export function taskMetrics(registry: Registry, process: MetricsProcess, what: string): TaskMetrics {
  const total = new Counter({
    name: `vsc_${process}_tasks_total`,
    help: `${what} finished, by type and outcome (ok or the failure's type).`,
    labelNames: ['operation', 'outcome'],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: `vsc_${process}_task_duration_seconds`,
    help: `How long ${what.toLowerCase()} took, by type and outcome.`,
    labelNames: ['operation', 'outcome'],
    buckets: TASK_SECONDS_BUCKETS,
    registers: [registry],
  });
  return {
    observe(labels, s) {
      total.inc(labels);
      seconds.observe(labels, s);
    },
  };
}

/** Bytes moved through the buffer, by direction (`in`: stored, `out`: read back). */
export function bufferBytesCounter(registry: Registry, process: MetricsProcess): Counter<'direction'> {
  return new Counter({
    name: `vsc_${process}_buffer_bytes_total`,
    help: 'Bytes of buffer chunks moved, by direction (in: written to the buffer, out: read from it).',
    labelNames: ['direction'],
    registers: [registry],
  });
}

export { Counter, Gauge, Histogram, Registry };
