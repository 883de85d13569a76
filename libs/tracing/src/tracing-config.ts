import { z } from 'zod';

/**
 * The standard OpenTelemetry variables this platform reads itself (the SDK reads the rest:
 * OTEL_TRACES_SAMPLER(_ARG), OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES, timeouts...).
 * Tracing is off unless an OTLP endpoint is set: a process never dials a receiver nobody runs.
 */
const TracingEnv = z.object({
  OTEL_SDK_DISABLED: z.enum(['true', 'false', '']).optional(),
  OTEL_TRACES_EXPORTER: z.string().optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .url({ error: 'OTEL_EXPORTER_OTLP_ENDPOINT must be a URL (http://host:4318)' })
    .optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z
    .url({ error: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be a URL (http://host:4318/v1/traces)' })
    .optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.string().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
});

export interface TracingSettings {
  /** The traces endpoint the exporter posts to (for the startup line; the exporter reads the env itself). */
  endpoint: string;
}

export class TracingConfigError extends Error {
  override name = 'TracingConfigError';
}

/** Whether tracing is on, from the environment; throws a TracingConfigError a person can act on. */
export function tracingSettings(env: NodeJS.ProcessEnv = process.env): TracingSettings | undefined {
  const blankIsUnset = Object.fromEntries(
    Object.keys(TracingEnv.shape).map((key) => [key, env[key]?.trim() ? env[key]!.trim() : undefined]),
  );
  const parsed = TracingEnv.safeParse(blankIsUnset);
  if (!parsed.success) throw new TracingConfigError(parsed.error.issues.map((i) => i.message).join('; '));
  const c = parsed.data;
  if (c.OTEL_SDK_DISABLED === 'true') return undefined;
  if (c.OTEL_TRACES_EXPORTER !== undefined && c.OTEL_TRACES_EXPORTER !== 'otlp') {
    if (c.OTEL_TRACES_EXPORTER === 'none') return undefined;
    throw new TracingConfigError(
      `OTEL_TRACES_EXPORTER=${c.OTEL_TRACES_EXPORTER} is not supported: use otlp (or none, or leave it unset)`,
    );
  }
  const protocol = c.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? c.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (protocol !== undefined && protocol !== 'http/protobuf') {
    throw new TracingConfigError(
      `OTLP protocol ${protocol} is not supported: traces are sent as http/protobuf (port 4318 of a collector)`,
    );
  }
  if (c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return { endpoint: c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT };
  if (c.OTEL_EXPORTER_OTLP_ENDPOINT)
    return { endpoint: `${c.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` };
  return undefined;
}
