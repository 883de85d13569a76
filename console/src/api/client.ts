import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

/** The gateway's REST API, typed from its /openapi.json (src/api/schema.d.ts is generated: `pnpm gen:client`). */
export type GatewayClient = ReturnType<typeof createClient<paths>>;
export type { components, paths };

/**
 * A client for one gateway. The bearer token (none before sign-in) goes in the Authorization header
 * of requests to `baseUrl` only: openapi-fetch builds every URL from it, so the token reaches no other origin.
 */
export function gatewayClient(baseUrl: string, token?: string): GatewayClient {
  return createClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ''),
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
}

/** The gateway's own sentence from an error body: every one is { error: { code, message } }. */
export function messageOf(body: unknown): string {
  const error = body && typeof body === 'object' && 'error' in body ? (body.error as Record<string, unknown>) : {};
  return typeof error?.message === 'string' ? error.message : '';
}

/** A sentence a person can act on from a failed call's status and the gateway's error body. */
export function describeFailure(status: number, body: unknown): string {
  const message = messageOf(body);
  const with_ = (text: string) => `${text}${message ? `: ${message}` : ''}.`;
  if (status === 401) return 'The gateway refused the token (401). Sign in again, or connect with a valid token.';
  if (status === 403) return with_('You may not do that here (403)');
  if (status === 404) return with_('Not found (404)');
  if (status === 409) return with_('Refused (409)');
  if (status === 429) return with_('Too many attempts (429)');
  return with_(`The gateway answered ${status}`);
}

/** A sign-in's refusal, in words for the person signing in (the wait comes in the 429's body: CORS hides Retry-After). */
export function describeSignInFailure(status: number, body: unknown): string {
  const message = messageOf(body);
  if (status === 401) return 'The email address or the password is wrong. Check both and try again.';
  if (status === 429) {
    const error = (body as { error?: { retryAfterSeconds?: unknown } } | undefined)?.error;
    const wait = typeof error?.retryAfterSeconds === 'number' ? error.retryAfterSeconds : undefined;
    // A lockout lasts up to 15 minutes: minutes read better than 897 seconds.
    const when = wait === undefined ? '' : wait < 90 ? `${wait} seconds` : `about ${Math.ceil(wait / 60)} minutes`;
    return `Signing in is paused after too many failed attempts${when ? `: try again in ${when}` : ''}.`;
  }
  if (status === 403)
    return `This account may not sign in${message ? `: ${message}` : ''}. Ask an owner of your tenant.`;
  if (status === 400) return `The gateway refused the form${message ? `: ${message}` : ''}.`;
  return describeFailure(status, body);
}

/** What a failed fetch (no answer at all) most likely means, for a person. */
export function unreachable(gatewayUrl: string): string {
  return `The gateway at ${gatewayUrl} did not answer. Is it running, and does it allow this console's origin?`;
}

/**
 * One call's outcome for a page: the data, or the sentence to show (the gateway's refusal, or that it
 * did not answer at all). Pages then have one branch instead of three.
 */
export async function outcome<T>(
  gatewayUrl: string,
  call: () => Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<{ data: T } | { error: string }> {
  try {
    const { data, error, response } = await call();
    return data !== undefined && response.ok ? { data } : { error: describeFailure(response.status, error) };
  } catch {
    return { error: unreachable(gatewayUrl) };
  }
}
