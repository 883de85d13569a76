import { issueBufferToken, MAX_TOKEN_TTL_SECONDS, newObjectId, type BufferTokenScope } from '@vansales/buffer';
import type { BufferGrant } from '@vansales/protocol';

export interface BufferGrantRequest {
  tenantId: string;
  connectorId: string;
  /** The object to read, or to write; a write grant without one gets a fresh id. */
  objectId?: string;
  scope: BufferTokenScope;
  /** The agent session the grant is for: the token stops working when that session ends. */
  sessionId?: string;
  /** Lifetime of the token; default one hour. */
  ttlSeconds?: number;
}

/**
 * A grant names its object, not a URL: agents reach the object's routes (`bufferPaths` in
 * @vansales/protocol) through the gateway URL they already dial (the gateway cannot know its
 * public name behind a proxy).
 */
export type GrantBufferAccess = (request: BufferGrantRequest) => BufferGrant;

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
    const token = issueBufferToken(
      options.tokenSecret,
      {
        tenantId: request.tenantId,
        connectorId: request.connectorId,
        objectId,
        scope: request.scope,
        ttlSeconds,
        sessionId: request.sessionId,
      },
      issuedAt,
    );
    return {
      objectId,
      scope: request.scope,
      token,
      expiresAt: new Date(Math.floor(issuedAt / 1000) * 1000 + ttlSeconds * 1000).toISOString(),
    };
  };
}
