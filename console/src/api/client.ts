import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

/** The gateway's REST API, typed from its /openapi.json (src/api/schema.d.ts is generated: `pnpm gen:client`). */
export type GatewayClient = ReturnType<typeof createClient<paths>>;
export type { components, paths };

/**
 * A client for one gateway. The bearer token goes in the Authorization header of requests to
 * `baseUrl` only: openapi-fetch builds every URL from it, so the token reaches no other origin.
 */
export function gatewayClient(baseUrl: string, token: string): GatewayClient {
  return createClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: { authorization: `Bearer ${token}` },
  });
}

/** A sentence a person can act on from a failed call's status and the gateway's error body. */
export function describeFailure(status: number, body: unknown): string {
  // Every gateway error body is { error: { code, message } }.
  const error = body && typeof body === 'object' && 'error' in body ? (body.error as Record<string, unknown>) : {};
  const message = typeof error?.message === 'string' ? error.message : '';
  if (status === 401) return 'The gateway refused the token (401). Connect again with a valid token.';
  if (status === 403) return 'This token may not do that (403).';
  if (status === 404) return `Not found (404)${message ? `: ${message}` : ''}.`;
  return `The gateway answered ${status}${message ? `: ${message}` : ''}.`;
}
