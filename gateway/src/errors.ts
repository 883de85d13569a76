import type { BufferErrorCode } from '@vansales/buffer';

/**
 * The gateway's one error class. Each code maps to one HTTP status (the table below is the
 * documented contract); messages are written for the caller, and 5xx never carry internals.
 */
export const GatewayErrorCode = {
  badRequest: 'BAD_REQUEST',
  unauthorized: 'UNAUTHORIZED',
  forbidden: 'FORBIDDEN',
  notFound: 'NOT_FOUND',
  conflict: 'CONFLICT',
  /** Something that existed is used up, revoked or expired (an invitation): ask for a new one. */
  gone: 'GONE',
  requestTimeout: 'REQUEST_TIMEOUT',
  tooManyRequests: 'TOO_MANY_REQUESTS',
  /** A tenant's buffer quota is used up; it frees as its objects expire (Retry-After says when). */
  quotaExceeded: 'QUOTA_EXCEEDED',
  /** A body of a content type the route does not take. */
  unsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  /** A control flag (pause, stop) refuses new runs; the message names the flag and who set it. */
  locked: 'LOCKED',
  workflowFailed: 'WORKFLOW_FAILED',
  /** A definition document that does not validate; `issues` lists every problem (step id, path, code, message). */
  invalidDefinition: 'INVALID_DEFINITION',
  unavailable: 'UNAVAILABLE',
  internal: 'INTERNAL',
} as const;
export type GatewayErrorCode = (typeof GatewayErrorCode)[keyof typeof GatewayErrorCode];

export const HTTP_STATUS: Record<GatewayErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  GONE: 410,
  REQUEST_TIMEOUT: 408,
  TOO_MANY_REQUESTS: 429,
  QUOTA_EXCEEDED: 429,
  UNSUPPORTED_MEDIA_TYPE: 415,
  LOCKED: 423,
  WORKFLOW_FAILED: 422,
  INVALID_DEFINITION: 422,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/**
 * The buffer routes answer with the buffer's own codes (`BufferError`), mapped here. A token
 * problem is 401, a token that does not cover the object 403, data that failed its checks 422.
 */
export const BUFFER_HTTP_STATUS: Record<BufferErrorCode, number> = {
  BAD_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  WRONG_TENANT: 403,
  NOT_FOUND: 404,
  ALREADY_COMMITTED: 409,
  NOT_COMMITTED: 409,
  EXPIRED: 410,
  TOO_LARGE: 413,
  TAMPERED: 422,
  TRUNCATED: 422,
  // The gateway misses a master key its objects need: an operator's fix, not the caller's.
  KEY_UNAVAILABLE: 500,
};

export class GatewayError extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}
