import { tracingSettings } from './tracing-config';
import type { Tracing } from './tracing-sdk';

export type { Tracing } from './tracing-sdk';

/**
 * Starts tracing for this process when the OTEL_* environment asks for it, else resolves undefined:
 * nothing is loaded (the SDK is imported only here) and nothing is dialled. `serviceName` is the
 * default; OTEL_SERVICE_NAME wins. Registers the provider globally (async-hooks context, W3C
 * propagation): the Temporal interceptors find the active span through the global API. A bad setting
 * throws a TracingConfigError before anything starts.
 */
export async function startTracing(
  process: { serviceName: string; serviceVersion: string },
  env: NodeJS.ProcessEnv = globalThis.process.env,
): Promise<Tracing | undefined> {
  const settings = tracingSettings(env);
  if (!settings) return undefined;
  const { createTracing } = await import('./tracing-sdk');
  return createTracing(process, settings);
}
