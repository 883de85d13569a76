import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import type { Logger } from '../logger';

/** What one `take` found: whether it was counted, the use in the window, and when a slot frees. */
export interface WindowTake {
  ok: boolean;
  /** Events in the window, this one included when it was counted. */
  used: number;
  /** When refused: ms until the oldest event in the window leaves it. */
  retryAfterMs: number;
}

/**
 * A sliding window log: an event counts for exactly `windowMs` after it happened, so a burst at the
 * end of one minute and the start of the next cannot pass twice the limit (a fixed window would).
 * Refused events are not counted: a caller that is told to wait is not punished further for asking.
 */
export interface SlidingWindow {
  take(key: string, limit: number, windowMs: number): Promise<WindowTake>;
}

/** One process's window (no Redis, or a test): each key holds the times of its counted events. */
export function memoryWindow(now: () => number = Date.now): SlidingWindow {
  const events = new Map<string, number[]>();
  return {
    async take(key, limit, windowMs) {
      const t = now();
      const kept = (events.get(key) ?? []).filter((at) => at > t - windowMs);
      if (kept.length >= limit) {
        events.set(key, kept);
        const oldest = kept[kept.length - limit] ?? t;
        return { ok: false, used: kept.length, retryAfterMs: Math.max(1, oldest + windowMs - t) };
      }
      kept.push(t);
      events.set(key, kept);
      return { ok: true, used: kept.length, retryAfterMs: 0 };
    },
  };
}

/**
 * Trims, counts and adds in one script, so gateway nodes sharing the key cannot both take the last
 * slot. Redis's clock, not the nodes': their skew cannot stretch the window. The member is unique per
 * event (two in the same ms both count); the key expires with its window.
 */
const TAKE_SCRIPT = `
local key, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local used = redis.call('ZCARD', key)
if used >= limit then
  local oldest = redis.call('ZRANGE', key, used - limit, used - limit, 'WITHSCORES')
  return {0, used, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, window)
return {1, used + 1, 0}
`;

/** The window shared by every gateway node through Redis (VSC_REDIS_URL), one sorted set per key. */
export function redisWindow(client: Redis, prefix = 'vsc:quota:'): SlidingWindow {
  return {
    async take(key, limit, windowMs) {
      const member = randomBytes(9).toString('base64url');
      const [ok, used, retryAfterMs] = (await client.eval(
        TAKE_SCRIPT,
        1,
        prefix + key,
        String(windowMs),
        String(limit),
        member,
      )) as [number, number, number];
      return { ok: ok === 1, used, retryAfterMs: Math.max(ok === 1 ? 0 : 1, retryAfterMs) };
    },
  };
}

/**
 * A Redis window on its own connection (VSC_REDIS_URL). Commands fail at once while Redis is away
 * (no offline queue): the quota service then counts in its process rather than hold requests.
 */
export function connectRedisWindow(url: string, log: Logger): SlidingWindow & { close(): void } {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 2_000,
    retryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
  });
  let lastError: string | undefined;
  client.on('error', (err: Error) => {
    // ioredis repeats the same error on every retry: log the change, not each attempt.
    if (err.message !== lastError) log.warn({ redis: 'quotas', err: err.message }, 'Redis connection problem');
    lastError = err.message;
  });
  return { ...redisWindow(client), close: () => client.disconnect() };
}
