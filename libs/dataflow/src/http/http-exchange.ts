import { DataflowError, DataflowErrorCode } from '../errors';

/**
 * One HTTP exchange as the HTTP steps see it, whoever carries it (the cloud's guarded transport, the
 * agent's site-API transport). Bodies are whole buffers: each side caps their size.
 */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: URL;
  headers: Record<string, string>;
  body?: Buffer;
  /**
   * A client certificate to present (a `mutualTLS` security scheme), attached by the host with the
   * other credentials; HTTPS only. Node's agents pool sockets by certificate, so none is shared.
   */
  clientCertificate?: ClientCertificate;
}

export interface ClientCertificate {
  /** PEM chain. */
  cert: string;
  /** PEM private key. */
  key: string;
  passphrase?: string;
  /** CA certificates (PEM) the server must chain to, when not a public CA. */
  ca?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The URL that answered (after same-host redirects), for resolving a Link header. */
  url: URL;
}

/** Sends one request; throws DataflowError (HTTP_REFUSED, HTTP_UNAVAILABLE) when no answer came. */
export type HttpSend = (request: HttpRequest, signal?: AbortSignal) => Promise<HttpResponse>;

export interface RetryOptions {
  /** Answers 429/5xx (or no answer) retried within one attempt before it fails retryably. */
  maxRetries: number;
  /** First backoff when the server gives no Retry-After; doubled each time. */
  baseDelayMs: number;
  /** Largest wait, also the cap on a server's Retry-After (a server cannot park the worker for an hour). */
  maxDelayMs: number;
  /** Sleeps; tests pass one that records the waits instead of waiting. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

export const DEFAULT_RETRY: RetryOptions = { maxRetries: 5, baseDelayMs: 500, maxDelayMs: 60_000 };

/**
 * Retry-After as milliseconds: delta-seconds or an HTTP-date (RFC 9110 10.2.3), capped; undefined
 * when absent or unreadable (the caller then backs off exponentially).
 */
export function retryAfterMs(
  value: string | string[] | undefined,
  capMs: number,
  now = Date.now(),
): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d{1,10}$/.test(text)) return Math.min(Number(text) * 1000, capMs);
  // An HTTP-date names its day and month (`Wed, 21 Oct 2015 07:28:00 GMT`); Date.parse reads `-1` as a year.
  if (!/^[A-Za-z]{3},? /.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now), capMs);
}

const retryableStatus = (status: number) => status === 429 || status >= 500;

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new DataflowError(DataflowErrorCode.CANCELLED, 'cancelled'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new DataflowError(DataflowErrorCode.CANCELLED, 'cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Sends with retries on 429 and 5xx (waiting what Retry-After says, capped, else exponential
 * backoff with jitter) and on an unreachable server. Returns the last answer, whatever its status:
 * the caller decides what a final 4xx or an exhausted 5xx means. `onRetry` counts the retried answers.
 */
export async function sendWithRetry(
  send: HttpSend,
  request: HttpRequest,
  options: RetryOptions,
  signal?: AbortSignal,
  onRetry?: (status: number | undefined, waitMs: number) => void,
): Promise<HttpResponse> {
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  for (let attempt = 0; ; attempt++) {
    const backoff = () => Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt) * (0.5 + Math.random() / 2);
    let response: HttpResponse;
    try {
      response = await send(request, signal);
    } catch (err) {
      const retryable = err instanceof DataflowError && err.code === DataflowErrorCode.HTTP_UNAVAILABLE;
      if (!retryable || attempt >= options.maxRetries || signal?.aborted) throw err;
      const wait = backoff();
      onRetry?.(undefined, wait);
      await sleep(wait, signal);
      continue;
    }
    if (!retryableStatus(response.status) || attempt >= options.maxRetries) return response;
    const wait = retryAfterMs(response.headers['retry-after'], options.maxDelayMs, now()) ?? backoff();
    onRetry?.(response.status, wait);
    await sleep(wait, signal);
  }
}

/**
 * The error a final answer ends a step with: status and path only (a query string may hold a token,
 * and a site API's host is the site's business: an agent's error travels to the cloud).
 */
export function statusError(response: HttpResponse, what: string): DataflowError {
  const where = response.url.pathname;
  if (retryableStatus(response.status))
    return new DataflowError(
      DataflowErrorCode.HTTP_UNAVAILABLE,
      `${what}: ${where} kept answering ${response.status} after the retries; the step is retried later`,
    );
  return new DataflowError(DataflowErrorCode.HTTP_FAILED, `${what}: ${where} answered ${response.status}`);
}

/** Parses a JSON answer, naming the URL path when it is not JSON. */
export function jsonBody(response: HttpResponse, what: string): unknown {
  if (response.body.length === 0) return null;
  try {
    return JSON.parse(response.body.toString('utf8'));
  } catch {
    throw new DataflowError(
      DataflowErrorCode.HTTP_FAILED,
      `${what}: ${response.url.pathname} answered ${response.status} with a body that is not JSON`,
    );
  }
}
