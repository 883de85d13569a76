/** The auth part's closed set of failure codes; every error of the part is an AuthError with one. */
export const AuthErrorCode = {
  /** A setting or an argument is wrong; the message names it. */
  badInput: 'bad-input',
  /** The tenant has no credential that satisfies any of the operation's security alternatives. */
  missingCredential: 'missing-credential',
  /** A stored credential is not of the kind its security scheme needs. */
  wrongKind: 'wrong-kind',
  /** A credential would travel in clear (HTTP Basic, a token endpoint) to a host that is not loopback. */
  insecureTransport: 'insecure-transport',
  /** The scheme is declared but this platform does not attach it (mutualTLS, OAuth implicit). */
  unsupportedScheme: 'unsupported-scheme',
  /** A sealed credential does not open: wrong tenant or name (a copied row), changed bytes, or a removed master key. */
  undecryptable: 'undecryptable',
  /** The token endpoint refused (invalid_grant, invalid_client…): the owner must authorize again or fix the client. */
  reauthorizationRequired: 'reauthorization-required',
  /** The token endpoint could not be reached or answered 5xx: retrying may help. */
  tokenEndpointUnavailable: 'token-endpoint-unavailable',
  /** An authorization callback whose state is unknown, expired or already used. */
  unknownAuthorization: 'unknown-authorization',
} as const;
export type AuthErrorCode = (typeof AuthErrorCode)[keyof typeof AuthErrorCode];

/**
 * Messages name tenants, credential names, scheme names, hosts and OAuth error codes; never a
 * secret, a token or a token endpoint's response body.
 */
export class AuthError extends Error {
  override name = 'AuthError';
  constructor(
    readonly code: AuthErrorCode,
    message: string,
    /** Whether trying again later may succeed without anyone changing anything. */
    readonly retryable = false,
  ) {
    super(message);
  }
}
