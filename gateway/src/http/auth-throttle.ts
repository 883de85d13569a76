/**
 * Counts failed agent authentications per source address and per API key prefix (its lookup id) in
 * fixed windows; a subject over the limit is answered 429 before its key is even looked up, until
 * its window ends. Guessing keys from one address, or trying one stolen key from many, both stop.
 *
 * The counts live in this process: with several gateway nodes each node allows the limit, so the
 * cluster allows nodes × limit per window (still a handful, not a brute force).
 */
export interface AuthThrottleSettings {
  failuresPerWindow: number;
  windowMs: number;
  /** Subjects tracked at most; the oldest windows are dropped first when full. */
  maxSubjects?: number;
}

export interface AuthThrottleStats {
  /** Failed authentications seen since start. */
  failures: number;
  /** Requests answered 429 since start. */
  throttled: number;
  /** Subjects (sources and key prefixes) currently over their limit. */
  blockedSubjects: number;
}

interface Window {
  start: number;
  count: number;
}

export function createAuthThrottle(settings: AuthThrottleSettings, now: () => number = Date.now) {
  const maxSubjects = settings.maxSubjects ?? 100_000;
  const windows = new Map<string, Window>();
  const stats = { failures: 0, throttled: 0 };

  const current = (subject: string): Window | undefined => {
    const w = windows.get(subject);
    if (w && now() - w.start >= settings.windowMs) {
      windows.delete(subject);
      return undefined;
    }
    return w;
  };

  const prune = () => {
    const t = now();
    for (const [subject, w] of windows) if (t - w.start >= settings.windowMs) windows.delete(subject);
    // Still full: drop the oldest (Map keeps insertion order, and a subject is re-inserted on a new window).
    for (const subject of windows.keys()) {
      if (windows.size < maxSubjects) break;
      windows.delete(subject);
    }
  };

  return {
    /** Milliseconds until the first of the subjects over its limit may try again; 0 when none is. */
    retryAfterMs(subjects: readonly string[]): number {
      let wait = 0;
      for (const subject of subjects) {
        const w = current(subject);
        if (w && w.count >= settings.failuresPerWindow) wait = Math.max(wait, settings.windowMs - (now() - w.start));
      }
      if (wait > 0) stats.throttled++;
      return wait;
    },

    recordFailure(subjects: readonly string[]): void {
      stats.failures++;
      for (const subject of subjects) {
        const w = current(subject);
        if (w) w.count++;
        else {
          if (windows.size >= maxSubjects) prune();
          windows.set(subject, { start: now(), count: 1 });
        }
      }
    },

    /**
     * Takes back one failure recorded for the subjects (an attempt counted before its outcome was
     * known, which then succeeded). A window that ended meanwhile is left alone.
     */
    forgive(subjects: readonly string[]): void {
      stats.failures = Math.max(0, stats.failures - 1);
      for (const subject of subjects) {
        const w = current(subject);
        if (w && w.count > 0) w.count--;
      }
    },

    stats(): AuthThrottleStats {
      let blockedSubjects = 0;
      for (const subject of [...windows.keys()]) {
        const w = current(subject);
        if (w && w.count >= settings.failuresPerWindow) blockedSubjects++;
      }
      return { ...stats, blockedSubjects };
    },
  };
}
export type AuthThrottle = ReturnType<typeof createAuthThrottle>;
