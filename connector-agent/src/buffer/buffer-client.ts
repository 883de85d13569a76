import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  AgentErrorType,
  BUFFER_CHUNK_CONTENT_TYPE,
  BUFFER_FOLLOW_CONTENT_TYPE,
  CHUNK_CODECS_ACCEPTED,
  BufferHeader,
  FollowStreamError,
  readFollowFrames,
  type FollowFrame,
  BufferManifest,
  bufferPaths,
  type BufferCommitBody,
  type BufferGrant,
} from '@vansales/protocol';
import { OperationError } from '../operations/operation';
import { createGatewayNetwork, retryAfterMs, type GatewayNetwork } from '../net';

export interface BufferClient {
  putChunk(grant: BufferGrant, index: number, bytes: Buffer, rows: number, signal?: AbortSignal): Promise<void>;
  /** Before the first chunk: the schema a following load prepares its destination from. */
  publishSchema(grant: BufferGrant, schema: unknown, signal?: AbortSignal): Promise<void>;
  commit(grant: BufferGrant, body: BufferCommitBody, signal?: AbortSignal): Promise<void>;
  manifest(grant: BufferGrant, signal?: AbortSignal): Promise<BufferManifest>;
  /** The manifest of a committed object, or undefined when the object is not committed (or not there) yet. */
  committedManifest(grant: BufferGrant, signal?: AbortSignal): Promise<BufferManifest | undefined>;
  getChunk(grant: BufferGrant, index: number, signal?: AbortSignal): Promise<Buffer>;
  /**
   * Follows the object while its writer stores it (`GET …/follow`): the frames as they arrive,
   * validated. Refusals before the stream starts reject like the other calls; a failure the gateway
   * reports inside the stream is an `error` frame, for the caller to map.
   */
  follow(
    grant: BufferGrant,
    options: { createTimeoutSeconds: number; signal?: AbortSignal },
  ): AsyncIterable<{ frame: FollowFrame; body?: Buffer }>;
}

/** Largest answer the agent accepts from the buffer endpoints (a chunk is far smaller). */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/**
 * Talks to the buffer endpoints of the agent's own gateway (same origin as its WebSocket, same
 * trusted CA), so a task cannot point the agent at another host. The grant's token goes in the
 * Authorization header, never in the URL.
 */
export function createBufferClient(options: { gatewayUrl: string; network?: GatewayNetwork }): BufferClient {
  const ws = new URL(options.gatewayUrl);
  const secure = ws.protocol === 'wss:';
  const origin = `${secure ? 'https' : 'http'}://${ws.host}`;
  const network = options.network ?? createGatewayNetwork({ gatewayUrl: options.gatewayUrl });
  // The same proxy and trusted CAs as the agent's WebSocket.
  const transport = {
    ...(secure && network.ca ? { ca: network.ca } : {}),
    ...(network.agent ? { agent: network.agent } : {}),
  };

  const call = (
    grant: BufferGrant,
    method: 'GET' | 'PUT' | 'POST',
    /** One of `bufferPaths`, for this grant's object. */
    path: string,
    body: Buffer | undefined,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const url = new URL(path, origin);
      const req = (secure ? httpsRequest : httpRequest)(
        url,
        {
          method,
          headers: {
            authorization: `Bearer ${grant.token}`,
            ...(body ? { 'content-length': String(body.length) } : {}),
            ...headers,
          },
          ...transport,
          signal,
        },
        (res: IncomingMessage) => {
          const parts: Buffer[] = [];
          let size = 0;
          res.on('data', (d: Buffer) => {
            size += d.length;
            if (size > MAX_RESPONSE_BYTES) {
              res.destroy();
              reject(
                new OperationError(
                  AgentErrorType.bufferRefused,
                  `buffer answer larger than ${MAX_RESPONSE_BYTES} bytes`,
                  false,
                ),
              );
              return;
            }
            parts.push(d);
          });
          res.on('error', (err) => reject(unavailable(err)));
          res.on('end', () => {
            const data = Buffer.concat(parts);
            const status = res.statusCode ?? 0;
            const proxy = network.proxyRefusal(req);
            if (proxy) return reject(new OperationError(AgentErrorType.bufferUnavailable, proxy.message, true));
            if (status >= 200 && status < 300) return resolve(data);
            const wait = retryAfterMs(res.headers['retry-after']);
            reject(
              status === 503 || (status === 429 && wait !== undefined)
                ? new BusyGateway(refusal(status, data), wait)
                : refusal(status, data),
            );
          });
        },
      );
      req.on('error', (err) =>
        reject(signal?.aborted ? new OperationError(AgentErrorType.cancelled, 'cancelled', false) : unavailable(err)),
      );
      req.end(body);
    });

  /**
   * Opens the follow answer; resolves with its body stream once the status is a success. The signal
   * is wired by hand: Node's own `signal` option destroys a request whose answer already arrived with
   * an AbortError emitted on a socket nothing listens to any more (a load that ends aborts its signal).
   */
  const openFollow = (grant: BufferGrant, createTimeoutSeconds: number, signal: AbortSignal | undefined) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      if (signal?.aborted) return reject(new OperationError(AgentErrorType.cancelled, 'cancelled', false));
      const url = new URL(`${bufferPaths.follow(grant.objectId)}?createTimeoutSeconds=${createTimeoutSeconds}`, origin);
      const req = (secure ? httpsRequest : httpRequest)(
        url,
        {
          method: 'GET',
          headers: {
            authorization: `Bearer ${grant.token}`,
            accept: BUFFER_FOLLOW_CONTENT_TYPE,
            [BufferHeader.chunkCodecs]: CHUNK_CODECS_ACCEPTED,
          },
          ...transport,
        },
        (res: IncomingMessage) => {
          res.once('close', () => signal?.removeEventListener('abort', onAbort));
          // The frames' reader sees a broken stream through its iteration.
          res.on('error', () => undefined);
          const status = res.statusCode ?? 0;
          const proxy = network.proxyRefusal(req);
          if (proxy) {
            res.resume();
            return reject(new OperationError(AgentErrorType.bufferUnavailable, proxy.message, true));
          }
          if (status >= 200 && status < 300) return resolve(res);
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => reject(refusal(status, Buffer.concat(parts).subarray(0, 64 * 1024))));
        },
      );
      // Without an error: one given to destroy() lands on the socket, which has no listener once the answer is in.
      const onAbort = () => req.destroy();
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(signal?.aborted ? new OperationError(AgentErrorType.cancelled, 'cancelled', false) : unavailable(err));
      });
      req.end();
    });

  // A busy gateway answers 503 (or 429) with Retry-After; waiting a little beats failing the whole
  // task. The wait is at least what Retry-After asks; one past BUSY_WAIT_MAX_MS fails the task
  // retryably at once instead of holding its slot (Temporal's retry comes back later).
  const withRetry = async <T>(attempt: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> => {
    for (let tries = 0; ; tries++) {
      try {
        return await attempt();
      } catch (err) {
        if (!(err instanceof BusyGateway)) throw err;
        const backoff = Math.min(8000, 250 * 2 ** tries) * (0.5 + Math.random() / 2);
        const wait = Math.max(backoff, err.retryAfterMs ?? 0);
        if (tries >= BUSY_RETRIES || signal?.aborted || wait > BUSY_WAIT_MAX_MS) throw err.failure;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  };
  const send = (...args: Parameters<typeof call>) => withRetry(() => call(...args), args[5]);

  const client: BufferClient = {
    async putChunk(grant, index, bytes, rows, signal) {
      await send(
        grant,
        'PUT',
        bufferPaths.chunk(grant.objectId, index),
        bytes,
        { 'content-type': BUFFER_CHUNK_CONTENT_TYPE, [BufferHeader.rows]: String(rows) },
        signal,
      );
    },
    async publishSchema(grant, schema, signal) {
      await send(
        grant,
        'PUT',
        bufferPaths.schema(grant.objectId),
        Buffer.from(JSON.stringify({ schema })),
        { 'content-type': 'application/json' },
        signal,
      );
    },
    async commit(grant, body, signal) {
      await send(
        grant,
        'POST',
        bufferPaths.commit(grant.objectId),
        Buffer.from(JSON.stringify(body)),
        { 'content-type': 'application/json' },
        signal,
      );
    },
    async manifest(grant, signal) {
      const raw = (await send(grant, 'GET', bufferPaths.manifest(grant.objectId), undefined, {}, signal)).toString(
        'utf8',
      );
      // What another site wrote is untrusted input: the manifest is checked before a chunk is read.
      const parsed = BufferManifest.safeParse(parseJson(raw));
      if (!parsed.success)
        throw new OperationError(
          AgentErrorType.bufferRefused,
          `the buffer answered a malformed manifest: ${parsed.error.issues[0]?.message}`,
          false,
        );
      return parsed.data;
    },
    async committedManifest(grant, signal) {
      try {
        return await client.manifest(grant, signal);
      } catch (err) {
        if (err instanceof BufferRefusal && NOT_YET.has(err.code ?? '')) return undefined;
        throw err;
      }
    },
    getChunk(grant, index, signal) {
      return send(
        grant,
        'GET',
        bufferPaths.chunk(grant.objectId, index),
        undefined,
        { [BufferHeader.chunkCodecs]: CHUNK_CODECS_ACCEPTED },
        signal,
      );
    },
    async *follow(grant, { createTimeoutSeconds, signal }) {
      const res = await openFollow(grant, createTimeoutSeconds, signal);
      try {
        yield* readFollowFrames(res);
      } catch (err) {
        if (signal?.aborted) throw new OperationError(AgentErrorType.cancelled, 'cancelled', false);
        if (err instanceof FollowStreamError)
          throw new OperationError(AgentErrorType.bufferUnavailable, `buffer follow broke off: ${err.message}`, true);
        throw unavailable(err as Error);
      } finally {
        res.destroy();
      }
    },
  };
  return client;
}

const BUSY_RETRIES = 6;
/** Longest Retry-After a buffer call waits for inside a task. */
const BUSY_WAIT_MAX_MS = 60_000;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The buffer's answers for an object that has no manifest yet: nothing committed to read back. */
const NOT_YET = new Set(['NOT_FOUND', 'NOT_COMMITTED']);

/** A 4xx/5xx answer of the buffer routes, with the buffer's error code (the gateway's `error.code`). */
export class BufferRefusal extends OperationError {
  constructor(
    type: OperationError['type'],
    message: string,
    retryable: boolean,
    readonly code: string | undefined,
  ) {
    super(type, message, retryable);
  }
}

/** A 503 (or a 429 with Retry-After) from the gateway: retried here a few times before it fails the task (retryably). */
class BusyGateway extends Error {
  constructor(
    readonly failure: OperationError,
    readonly retryAfterMs?: number,
  ) {
    super(failure.message);
  }
}

function unavailable(err: Error): OperationError {
  return new OperationError(
    AgentErrorType.bufferUnavailable,
    `buffer unreachable: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
    true,
  );
}

/**
 * 4xx answers are final for this object (tampered, expired, another tenant's), except an expired
 * or unknown token and throttling: a retried attempt gets a fresh grant from the gateway.
 */
function refusal(status: number, body: Buffer): BufferRefusal {
  let message = body.toString('utf8').slice(0, 2000);
  let code: string | undefined;
  try {
    // The gateway answers { error: { code, message } }.
    const parsed = JSON.parse(message) as { error?: { code?: string; message?: string } };
    if (typeof parsed.error?.code === 'string') code = parsed.error.code;
    if (parsed.error?.message) message = `${code ? `${code}: ` : ''}${parsed.error.message}`;
  } catch {
    // not JSON: keep the text
  }
  return bufferFailure(status, message, code);
}

/** A failure the gateway reported inside a follow answer, as the same failure on another route would be. */
export function followFailure(frame: Extract<FollowFrame, { t: 'error' }>): BufferRefusal {
  return bufferFailure(frame.status, `${frame.code}: ${frame.message}`, frame.code);
}

function bufferFailure(status: number, message: string, code: string | undefined): BufferRefusal {
  const retryable = status >= 500 || status === 401 || status === 408 || status === 429;
  return new BufferRefusal(
    retryable ? AgentErrorType.bufferUnavailable : AgentErrorType.bufferRefused,
    `buffer answered ${status}: ${message}`,
    retryable,
    code,
  );
}
