export {
  createMetricsRegistry,
  boundedLabel,
  taskMetrics,
  bufferBytesCounter,
  TASK_SECONDS_BUCKETS,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type MetricsProcess,
  type TaskMetrics,
} from './registry';
export {
  startStatusServer,
  readinessAnswer,
  metricsText,
  temporalPrometheusTelemetry,
  forwardMetrics,
  type DependencyState,
  type ReadinessProbe,
  type StatusServer,
  type StatusServerOptions,
} from './status-server';
export { collapseLabel } from './collapse-label';
