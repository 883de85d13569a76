import { z } from 'zod';
import { parsePayloadKeys, type PayloadCompatibility } from './payload-codec';
import { TemporalConnectionEnv } from './connection-settings';

const flag = z.enum(['true', 'false']).default('false');

/**
 * Where Temporal is and how our payloads are protected there, shared by every process that talks
 * to it. A config that extends this shape also applies `refineTemporalConnection` (cross-field
 * rules) and parses `withTemporalProfile(env)` (temporal.toml profiles).
 */
export const TemporalConfig = TemporalConnectionEnv.extend({
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
  /**
   * `true` accepts unencrypted payloads (workflows started before encryption was on). Default
   * `false`: a plain payload is refused, so whoever reaches the Temporal frontend cannot feed a
   * workflow or an activity input the platform never encrypted.
   */
  VSC_PAYLOAD_ACCEPT_PLAINTEXT: flag,
  /**
   * `true` accepts payloads of encoding version 1, which are encrypted but bound to no workflow
   * (written before version 2). Default `false`; turn on only while such workflows still run.
   */
  VSC_PAYLOAD_ACCEPT_V1: flag,
  /** Task queue of workflow tasks, polled by cloud workers. */
  VSC_WORKFLOW_TASK_QUEUE: z.string().min(1).max(255).default('workflows'),
});
export type TemporalConfig = z.infer<typeof TemporalConfig>;

/** The codec's compatibility switches from a parsed config. */
export function payloadCompatibility(
  config: Pick<TemporalConfig, 'VSC_PAYLOAD_ACCEPT_PLAINTEXT' | 'VSC_PAYLOAD_ACCEPT_V1'>,
): PayloadCompatibility {
  return {
    acceptPlaintext: config.VSC_PAYLOAD_ACCEPT_PLAINTEXT === 'true',
    acceptV1: config.VSC_PAYLOAD_ACCEPT_V1 === 'true',
  };
}
