// What the sandbox's host provides to an SDK in these tests: a transport over Node's fetch against a
// local server (standing in for an internet API), and timers that record every delay the runtime asks
// for while waiting only a fraction of it, so backoff and Retry-After are checked by value, not by clock.
import type { HttpRequest, HttpResponse, Timers, Transport } from '../../../src/codegen/runtime/sdk-runtime';

export function fetchTransport(baseUrl: string, seen: HttpRequest[] = []): Transport {
  return async (request) => {
    seen.push(request);
    const url = /^https?:/.test(request.url) ? request.url : `${baseUrl}${request.url}`;
    const response = await fetch(url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return { status: response.status, headers, body: await response.text() } satisfies HttpResponse;
  };
}

export interface RecordingTimers extends Timers {
  /** The sleeps asked for (backoff and Retry-After waits), in order; per-attempt timeouts are not listed. */
  readonly sleeps: number[];
}

/**
 * Timers for a client whose per-attempt timeout is `timeoutMs` (a value no sleep takes): timeouts run
 * at full length, sleeps are recorded and shortened by `scale`.
 */
export function recordingTimers(timeoutMs: number, scale = 0.01): RecordingTimers {
  const sleeps: number[] = [];
  return {
    sleeps,
    setTimeout(callback, ms) {
      if (ms === timeoutMs) return setTimeout(callback, ms);
      sleeps.push(ms);
      return setTimeout(callback, Math.ceil(ms * scale));
    },
    clearTimeout(handle) {
      clearTimeout(handle as ReturnType<typeof setTimeout>);
    },
  };
}
