import { z } from 'zod';
import { refineTemporalConnection, TemporalConfig, withTemporalProfile } from '@vansales/temporal-config';
import { AuthSettings } from '@vansales/sdk-factory/auth';

export const CloudWorkerConfig = TemporalConfig.extend({
  /** Prebuilt workflow bundle (made by the build); without it the worker bundles workflows at start. */
  VSC_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  /** Task queue of cloud activities. */
  VSC_CLOUD_TASK_QUEUE: z.string().min(1).max(255).default('cloud'),
  /** JSON file of the databases the cloud reaches directly, per tenant (0600; see cloud/cloud-databases.ts). */
  VSC_CLOUD_DATABASES_FILE: z.string().min(1).optional(),
  /**
   * JSON file of the API credentials HTTP steps name, per tenant (0600; see cloud/cloud-credentials.ts).
   * The fallback: with DATABASE_URL and VSC_CREDENTIALS_KEYS(_FILE) the credential store is asked
   * first (credentials created through the gateway's REST), then this file.
   */
  VSC_CLOUD_CREDENTIALS_FILE: z.string().min(1).optional(),
  /**
   * The metadata store's PostgreSQL (the gateway's DATABASE_URL): where the cloud credential store
   * lives. Without it (or without VSC_CREDENTIALS_KEYS / VSC_CREDENTIALS_KEYS_FILE) only the file is read.
   */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL')
    .optional(),
  ...AuthSettings.pick({ VSC_CREDENTIALS_KEYS: true, VSC_CREDENTIALS_KEYS_FILE: true }).shape,
  /**
   * The SDK registry's public keys this worker trusts (base64 SPKI DER, comma-separated; the gateway's
   * `GET /v1/agent/registry-keys`). With DATABASE_URL and the buffer, HTTP steps that name an API
   * operation run here: the artifacts are read from the gateway's registry and verified under these keys.
   */
  VSC_REGISTRY_TRUSTED_KEYS: z.string().min(1).max(20_000).optional(),
  /** Lets HTTP steps call private and loopback addresses (tests and dev only); default off: public APIs only. */
  VSC_CLOUD_HTTP_ALLOW_PRIVATE: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  /** Longest one HTTP exchange of a step may take (ms). Default 30 s. */
  VSC_CLOUD_HTTP_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** Largest API answer an HTTP step reads (bytes). Default 32 MiB. */
  VSC_CLOUD_HTTP_MAX_RESPONSE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(32 * 1024 * 1024),
  /**
   * Old-generation heap of each transform step's worker thread (MB). Default 128 (see
   * @vansales/transforms' workerHeapMb): a transform past it fails as TransformMemoryLimit.
   */
  VSC_TRANSFORM_HEAP_MB: z.coerce.number().int().min(16).max(16_384).optional(),
  /** Young-generation heap of each transform step's worker thread (MB). Default 16. */
  VSC_TRANSFORM_YOUNG_MB: z.coerce.number().int().min(1).max(1024).optional(),
  /**
   * What this process polls: `all` (workflows and cloud activities), `workflows`, or `activities`.
   * An activities-only process never loads the workflow bundle (about 300 MB), so the processes
   * that move rows stay small; run a `workflows` one beside it.
   */
  VSC_CLOUD_WORKER_ROLE: z.enum(['all', 'workflows', 'activities']).default('all'),
  /**
   * Port of this worker's /metrics, /livez and /readyz (unset: none). Several workers on one machine
   * need one port each; 0 picks a free one (printed at start).
   */
  VSC_CLOUD_WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Address of that server: loopback unless a scraper elsewhere must reach it. */
  VSC_CLOUD_WORKER_METRICS_HOST: z.string().min(1).max(255).default('127.0.0.1'),
  /** Loopback port of the Temporal SDK's Prometheus exporter (`temporal_*`), forwarded by /metrics. Unset: none. */
  VSC_TEMPORAL_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** How many workflow tasks run at once. */
  VSC_MAX_WORKFLOW_TASKS: z.coerce.number().int().min(1).max(1000).default(100),
})
  .superRefine(refineTemporalConnection)
  .refine((c) => !(c.VSC_CREDENTIALS_KEYS && c.VSC_CREDENTIALS_KEYS_FILE), {
    message: 'set VSC_CREDENTIALS_KEYS or VSC_CREDENTIALS_KEYS_FILE, not both',
    path: ['VSC_CREDENTIALS_KEYS'],
  })
  .refine((c) => !c.VSC_REGISTRY_TRUSTED_KEYS || !!c.DATABASE_URL, {
    message: "the SDK registry's records live in the metadata store: set DATABASE_URL (the gateway's) with the keys",
    path: ['DATABASE_URL'],
  })
  .refine((c) => !(c.VSC_CREDENTIALS_KEYS || c.VSC_CREDENTIALS_KEYS_FILE) || !!c.DATABASE_URL, {
    message:
      "the credential store lives in the metadata store: set DATABASE_URL (the gateway's) with the credential keys",
    path: ['DATABASE_URL'],
  });
export type CloudWorkerConfig = z.infer<typeof CloudWorkerConfig>;

export function loadCloudWorkerConfig(env: NodeJS.ProcessEnv = process.env): CloudWorkerConfig {
  const parsed = CloudWorkerConfig.safeParse(withTemporalProfile(env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid cloud worker configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
