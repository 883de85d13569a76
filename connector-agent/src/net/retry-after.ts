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
