import { z } from 'zod';
import { parsePayloadKeys } from './payload-codec';

/** Where Temporal is, shared by every process that talks to it. */
export const TemporalConfig = z.object({
  /** host:port of the Temporal frontend. Default: the local dev server. */
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d+$/, 'expected host:port')
    .default('127.0.0.1:7233'),
  /** Namespace of all Vansales workflows. */
  TEMPORAL_NAMESPACE: z.string().min(1).max(255).default('vansales'),
  /**
   * Keys that encrypt every payload Temporal stores for us: `<id>:<base64 of 32 bytes>[,…]`, the first
   * one encrypting, the rest only decrypting (rotation). Required: histories are never plain text.
   */
  VSC_PAYLOAD_KEYS: z.string().superRefine((spec, ctx) => {
    try {
      parsePayloadKeys(spec);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }),
  /** Task queue of workflow tasks, polled by cloud workers. */
  VSC_WORKFLOW_TASK_QUEUE: z.string().min(1).max(255).default('workflows'),
});
export type TemporalConfig = z.infer<typeof TemporalConfig>;
