import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AuthError, AuthErrorCode } from './auth-error';
import type { Credential } from './credential';
import { requireSecureTransport } from './transport';

type OAuthClient = Extract<Credential, { kind: 'oauth2-client' }>;
export type OAuthToken = Extract<Credential, { kind: 'oauth2-token' }>;

const TokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string().default('Bearer'),
  expires_in: z.coerce.number().positive().optional(),
  refresh_token: z.string().min(1).optional(),
  scope: z.string().optional(),
});
const ErrorResponse = z.object({ error: z.string().regex(/^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,64}$/) });

const STALE_CONNECTION = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/** The system error code (ECONNREFUSED…) or the error's message: fetch hides the cause under "fetch failed". */
function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}

/** RFC 7636: a 43-character verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function randomState(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * One request to an OAuth 2.0 token endpoint (RFC 6749 section 3.2) with the client's
 * authentication. Failures carry the endpoint's host and its OAuth error code only: a token
 * endpoint's body may echo what was sent.
 */
export async function requestToken(options: {
  tokenUrl: string;
  client: OAuthClient;
  grant: Record<string, string>;
  now: number;
  fetch: typeof fetch;
  /** The refresh token to keep when a refresh response does not rotate it. */
  previousRefreshToken?: string;
}): Promise<OAuthToken> {
  const url = requireSecureTransport(options.tokenUrl, 'an OAuth client secret (token endpoint)');
  const { client } = options;
  const body = new URLSearchParams(options.grant);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (client.tokenEndpointAuth === 'client_secret_basic' && client.clientSecret !== undefined) {
    // RFC 6749 2.3.1: both parts form-urlencoded before base64.
    const user = encodeURIComponent(client.clientId);
    const pass = encodeURIComponent(client.clientSecret);
    headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  } else {
    body.set('client_id', client.clientId);
    if (client.tokenEndpointAuth === 'client_secret_post' && client.clientSecret !== undefined)
      body.set('client_secret', client.clientSecret);
  }
  const send = () =>
    options.fetch(url, { method: 'POST', headers, body, redirect: 'error', signal: AbortSignal.timeout(30_000) });
  let res: Response;
  try {
    try {
      res = await send();
    } catch (err) {
      // A pooled keep-alive connection the server had already closed fails before any answer. Only a
      // client-credentials request is sent again: a code or a rotating refresh token may have been
      // used up by a request whose answer was lost, and sending it twice would read as a refusal.
      if (options.grant.grant_type !== 'client_credentials' || !STALE_CONNECTION.has(causeOf(err))) throw err;
      res = await send();
    }
  } catch (err) {
    throw new AuthError(
      AuthErrorCode.tokenEndpointUnavailable,
      `token endpoint ${url.host} could not be reached (${causeOf(err)})`,
      true,
    );
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const oauthError = ErrorResponse.safeParse(json);
    const code = oauthError.success ? oauthError.data.error : `HTTP ${res.status}`;
    if (res.status >= 500 || res.status === 429)
      throw new AuthError(AuthErrorCode.tokenEndpointUnavailable, `token endpoint ${url.host} answered ${code}`, true);
    throw new AuthError(AuthErrorCode.reauthorizationRequired, `token endpoint ${url.host} refused: ${code}`);
  }
  const parsed = TokenResponse.safeParse(json);
  if (!parsed.success)
    throw new AuthError(
      AuthErrorCode.tokenEndpointUnavailable,
      `token endpoint ${url.host} answered no usable token`,
      true,
    );
  const t = parsed.data;
  return {
    kind: 'oauth2-token',
    accessToken: t.access_token,
    tokenType: t.token_type,
    expiresAt: t.expires_in !== undefined ? options.now + Math.floor(t.expires_in * 1000) : undefined,
    refreshToken: t.refresh_token ?? options.previousRefreshToken,
    scope: t.scope,
  };
}
