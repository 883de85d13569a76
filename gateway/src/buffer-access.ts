import { issueBufferToken, MAX_TOKEN_TTL_SECONDS, newObjectId, type BufferTokenScope } from '@vansales/buffer';

export interface BufferGrantRequest {
  tenantId: string;
  connectorId: string;
  /** The object to read, or to write; a write grant without one gets a fresh id. */
  objectId?: string;
  scope: BufferTokenScope;
  /** Lifetime of the token; default one hour. */
  ttlSeconds?: number;
}

export interface BufferGrant {
  /**
   * Path of the object's routes on the gateway (`…/chunks/:index`, `…/commit`, `…/manifest`). It
   * is relative: agents reach the gateway through the URL they already dial (the gateway cannot
   * know its public name behind a proxy).
   */
  urlBase: string;
  objectId: string;
  scope: BufferTokenScope;
  /** `Authorization: Bearer <token>` on every buffer route. */
  token: string;
  expiresAt: string;
}

export type GrantBufferAccess = (request: BufferGrantRequest) => BufferGrant;

export const BUFFER_ROUTES_PREFIX = '/v1/buffer/objects';
const DEFAULT_TOKEN_TTL_SECONDS = 3600;

/**
 * What the agent hub calls to let an agent read or write one buffer object through the gateway:
 * agents never hold store credentials, only a token for that object and scope.
 */
export function createBufferAccess(options: { tokenSecret: Buffer; now?: () => number }): GrantBufferAccess {
  const now = options.now ?? Date.now;
  return (request) => {
    const objectId = request.objectId ?? (request.scope === 'write' ? newObjectId() : undefined);
    if (!objectId) throw new Error('a read grant needs the objectId to read');
    const ttlSeconds = Math.min(request.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS, MAX_TOKEN_TTL_SECONDS);
    const issuedAt = now();
    const token = issueBufferToken(options.tokenSecret, { tenantId: request.tenantId, connectorId: request.connectorId, objectId, scope: request.scope, ttlSeconds }, issuedAt);
    return {
      urlBase: `${BUFFER_ROUTES_PREFIX}/${objectId}`,
      objectId,
      scope: request.scope,
      token,
      expiresAt: new Date(Math.floor(issuedAt / 1000) * 1000 + ttlSeconds * 1000).toISOString(),
    };
  };
}
