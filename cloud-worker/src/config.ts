import { z } from 'zod';
import { refineTemporalConnection, TemporalConfig, withTemporalProfile } from '@vansales/temporal-config';

export const CloudWorkerConfig = TemporalConfig.extend({
  /** Prebuilt workflow bundle (made by the build); without it the worker bundles workflows at start. */
  VSC_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  /** Task queue of cloud activities. */
  VSC_CLOUD_TASK_QUEUE: z.string().min(1).max(255).default('cloud'),
  /** JSON file of the databases the cloud reaches directly, per tenant (0600; see cloud/cloud-databases.ts). */
  VSC_CLOUD_DATABASES_FILE: z.string().min(1).optional(),
  /** JSON file of the API credentials HTTP steps name, per tenant (0600; see cloud/cloud-credentials.ts). */
  VSC_CLOUD_CREDENTIALS_FILE: z.string().min(1).optional(),
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
  /** How many workflow tasks run at once. */
  VSC_MAX_WORKFLOW_TASKS: z.coerce.number().int().min(1).max(1000).default(100),
}).superRefine(refineTemporalConnection);
export type CloudWorkerConfig = z.infer<typeof CloudWorkerConfig>;

export function loadCloudWorkerConfig(env: NodeJS.ProcessEnv = process.env): CloudWorkerConfig {
  const parsed = CloudWorkerConfig.safeParse(withTemporalProfile(env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid cloud worker configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
