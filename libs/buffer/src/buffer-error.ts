/**
 * The buffer's one error class. The codes are a closed set (the gateway maps each to one HTTP
 * status); messages tell the caller what to do and never contain key material or stored bytes.
 */
export const BufferErrorCode = {
  /** No such object (or chunk) for this tenant. */
  notFound: 'NOT_FOUND',
  /** The object is past its expiry; it is (or will be) purged. */
  expired: 'EXPIRED',
  /** An authentication tag or checksum did not match: the stored bytes were changed. */
  tampered: 'TAMPERED',
  /** A chunk is shorter than recorded, or missing from a committed object. */
  truncated: 'TRUNCATED',
  /** The stored object says it belongs to another tenant. */
  wrongTenant: 'WRONG_TENANT',
  /** The object has no manifest yet, so it cannot be read. */
  notCommitted: 'NOT_COMMITTED',
  /** The object has a manifest; it can no longer be written, or committed differently. */
  alreadyCommitted: 'ALREADY_COMMITTED',
  /** An argument is malformed (id, index, row count, commit that does not add up). */
  badInput: 'BAD_INPUT',
  /** A chunk or manifest is over its size limit. */
  tooLarge: 'TOO_LARGE',
  /** The object was encrypted with a master key that is not configured (VSC_BUFFER_KEYS). */
  keyUnavailable: 'KEY_UNAVAILABLE',
  /** A buffer access token is missing, malformed, forged or expired. */
  unauthorized: 'UNAUTHORIZED',
  /** A valid token that does not cover this object or operation. */
  forbidden: 'FORBIDDEN',
} as const;
export type BufferErrorCode = (typeof BufferErrorCode)[keyof typeof BufferErrorCode];

export class BufferError extends Error {
  override name = 'BufferError';
  constructor(
    readonly code: BufferErrorCode,
    message: string,
    readonly details?: Record<string, string | number | boolean>,
  ) {
    super(message);
  }
}

export function isBufferError(err: unknown, code?: BufferErrorCode): err is BufferError {
  return err instanceof BufferError && (code === undefined || err.code === code);
}
