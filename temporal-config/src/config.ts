import { z } from 'zod';

/** Where Temporal is, shared by every process that talks to it. */
export const TemporalConfig = z.object({
  /** host:port of the Temporal frontend. Default: the local dev server. */
  TEMPORAL_ADDRESS: z.string().regex(/^[^\s:/]+:\d+$/, 'expected host:port').default('127.0.0.1:7233'),
  /** Namespace of all Vansales workflows. */
  TEMPORAL_NAMESPACE: z.string().min(1).max(255).default('vansales'),
  /** Task queue of workflow tasks, polled by cloud workers. */
  VSC_WORKFLOW_TASK_QUEUE: z.string().min(1).max(255).default('workflows'),
});
export type TemporalConfig = z.infer<typeof TemporalConfig>;
