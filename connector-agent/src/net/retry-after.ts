/**
 * Longest wait a Retry-After may impose (10 minutes): a gateway (or something posing as one) cannot
 * park the agent for a day; past it the agent comes back after this long and asks again.
 */
export const RETRY_AFTER_MAX_MS = 10 * 60_000;

/**
 * A Retry-After header (RFC 9110 §10.2.3: delay-seconds or an HTTP date) as milliseconds from
 * `now`, capped at RETRY_AFTER_MAX_MS; undefined when absent or unreadable (the caller's backoff applies).
 */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  let ms: number;
  if (/^\d+$/.test(value)) ms = Number(value) * 1000;
  else {
    const at = Date.parse(value);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(RETRY_AFTER_MAX_MS, Math.max(0, ms));
}

/**
 * Sends again while the answer is 429 or 503 with a Retry-After of at most `maxWaitMs`, waiting what
 * it asks (at most `retries` more times); any other answer, or a longer wait, is returned as it is.
 */
export async function honouringRetryAfter<T extends { status: number; headers: Record<string, unknown> }>(
  send: () => Promise<T>,
  options: { retries: number; maxWaitMs: number } = { retries: 3, maxWaitMs: 60_000 },
): Promise<T> {
  for (let tries = 0; ; tries++) {
    const answer = await send();
    if (answer.status !== 429 && answer.status !== 503) return answer;
    const wait = retryAfterMs(answer.headers['retry-after'] as string | string[] | undefined);
    if (wait === undefined || wait > options.maxWaitMs || tries >= options.retries) return answer;
    await new Promise((r) => setTimeout(r, wait));
  }
}
