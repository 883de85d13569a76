/** The artifact registry's one error type; `code` says what went wrong, the message what to do. */
export const RegistryErrorCode = {
  /** No such API, version, artifact or operation in this tenant. */
  notFound: 'NOT_FOUND',
  /** Input the registry refuses (a spec that is not OpenAPI 3.x, a manifest of another document, bad ids). */
  badInput: 'BAD_INPUT',
  /** A stored artifact's bytes do not hash to what its record says: changed in the store. */
  tampered: 'TAMPERED',
  /** The signature of an artifact's record does not verify. */
  badSignature: 'BAD_SIGNATURE',
  /** Signed by a key this factory does not trust. */
  untrustedKey: 'UNTRUSTED_KEY',
  /** The signing key file or trusted keys are unusable. */
  badKey: 'BAD_KEY',
  /** The oasdiff binary is not there. */
  oasdiffUnavailable: 'OASDIFF_UNAVAILABLE',
  /** oasdiff ran and failed, or printed something that is not its report. */
  oasdiffFailed: 'OASDIFF_FAILED',
} as const;
export type RegistryErrorCode = (typeof RegistryErrorCode)[keyof typeof RegistryErrorCode];

export class RegistryError extends Error {
  override name = 'RegistryError';
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const isRegistryError = (err: unknown, code?: RegistryErrorCode): err is RegistryError =>
  err instanceof RegistryError && (code === undefined || err.code === code);
