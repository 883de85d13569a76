import { z } from 'zod';
import { refineTemporalConnection, TemporalConfig, withTemporalProfile } from '@vansales/temporal-config';

export const CloudWorkerConfig = TemporalConfig.extend({
  /** Prebuilt workflow bundle (made by the build); without it the worker bundles workflows at start. */
  VSC_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  /** Task queue of cloud activities. */
  VSC_CLOUD_TASK_QUEUE: z.string().min(1).max(255).default('cloud'),
  /** JSON file of the databases the cloud reaches directly, per tenant (0600; see cloud/cloud-databases.ts). */
  VSC_CLOUD_DATABASES_FILE: z.string().min(1).optional(),
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
