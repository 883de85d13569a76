import { z } from 'zod';

/**
 * The AI path's settings. The key comes from the environment (ANTHROPIC_API_KEY, the SDK's own name);
 * without one the AI path answers AI_NOT_CONFIGURED and everything else in the factory works.
 * ANTHROPIC_BASE_URL points the SDK at another server speaking the Messages API (tests use a local one
 * with recorded answers).
 */
export const AiConfig = z.object({
  apiKey: z.string().min(1).optional(),
  baseURL: z.string().url().optional(),
  model: z.string().min(1).default('claude-sonnet-5-5'),
  /** The answer's budget: a large API's description needs room; a truncated one is refused, not used. */
  maxTokens: z.number().int().min(256).max(64_000).default(16_000),
  timeoutMs: z.number().int().min(1_000).max(600_000).default(120_000),
  maxRetries: z.number().int().min(0).max(5).default(2),
  /** Characters of documentation sent in one request (after HTML is reduced to text). */
  maxInputChars: z.number().int().min(1_000).max(2_000_000).default(400_000),
});
export type AiConfig = z.infer<typeof AiConfig>;

export function aiConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AiConfig {
  const int = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  return AiConfig.parse({
    apiKey: env.ANTHROPIC_API_KEY || undefined,
    baseURL: env.ANTHROPIC_BASE_URL || undefined,
    model: env.VSC_AI_MODEL || undefined,
    maxTokens: int(env.VSC_AI_MAX_TOKENS),
    timeoutMs: int(env.VSC_AI_TIMEOUT_MS),
  });
}
