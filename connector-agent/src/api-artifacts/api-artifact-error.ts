/** The agent's artifact client's one error type; `code` says what went wrong, the message what to do. */
export const ApiArtifactErrorCode = {
  /** Not a sha256, or an unknown kind. */
  badInput: 'BAD_INPUT',
  /** The agent's tenant has no artifact with this hash. */
  notFound: 'NOT_FOUND',
  /** The artifact is another kind than the step asked for. */
  wrongKind: 'WRONG_KIND',
  /** The bytes do not hash to the signed hash or are not the signed size (served or cached). */
  tampered: 'TAMPERED',
  /** The record's signature does not verify under the key it names. */
  badSignature: 'BAD_SIGNATURE',
  /** Signed by a key the agent does not trust (not configured, not pinned). */
  untrustedKey: 'UNTRUSTED_KEY',
  /** The pinned or configured trust is unusable, or the gateway now speaks for another tenant. */
  badTrust: 'BAD_TRUST',
  /** The gateway could not be reached, refused the agent, or answered something else. */
  gateway: 'GATEWAY',
  /** The artifact is larger than this agent accepts. */
  tooLarge: 'TOO_LARGE',
} as const;
export type ApiArtifactErrorCode = (typeof ApiArtifactErrorCode)[keyof typeof ApiArtifactErrorCode];

export class ApiArtifactError extends Error {
  override name = 'ApiArtifactError';
  constructor(
    readonly code: ApiArtifactErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const isApiArtifactError = (err: unknown, code?: ApiArtifactErrorCode): err is ApiArtifactError =>
  err instanceof ApiArtifactError && (code === undefined || err.code === code);
