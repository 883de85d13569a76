import { createAuthThrottle } from '../src/http/auth-throttle';

describe('the failed-authentication throttle', () => {
  const clock = () => {
    let t = 0;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it('blocks a key prefix tried from many sources, and a source trying many keys, until the window ends', () => {
    const c = clock();
    const throttle = createAuthThrottle({ failuresPerWindow: 3, windowMs: 1000 }, c.now);
    for (const source of ['a', 'b', 'c']) throttle.recordFailure([`source:${source}`, 'key:STOLEN']);
    expect(throttle.retryAfterMs(['source:d', 'key:STOLEN'])).toBe(1000);
    expect(throttle.retryAfterMs(['source:d', 'key:OTHER'])).toBe(0);
    for (const key of ['k1', 'k2', 'k3']) throttle.recordFailure(['source:guesser', `key:${key}`]);
    expect(throttle.retryAfterMs(['source:guesser', 'key:fresh'])).toBe(1000);
    c.advance(400);
    expect(throttle.retryAfterMs(['source:guesser', 'key:fresh'])).toBe(600);
    c.advance(600);
    expect(throttle.retryAfterMs(['source:guesser', 'key:fresh'])).toBe(0);
    expect(throttle.retryAfterMs(['source:d', 'key:STOLEN'])).toBe(0);
    expect(throttle.stats()).toEqual({ failures: 6, throttled: 3, blockedSubjects: 0 });
  });

  it('tracks a bounded number of subjects', () => {
    const throttle = createAuthThrottle({ failuresPerWindow: 2, windowMs: 60_000, maxSubjects: 100 });
    for (let i = 0; i < 10_000; i++) throttle.recordFailure([`source:${i}`]);
    // The oldest were dropped to make room; the newest are still counted.
    throttle.recordFailure(['source:9999']);
    expect(throttle.retryAfterMs(['source:9999'])).toBeGreaterThan(0);
    expect(throttle.stats().blockedSubjects).toBeLessThanOrEqual(100);
  });
});
