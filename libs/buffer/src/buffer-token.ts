import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { BufferError, BufferErrorCode } from './buffer-error';
import { OBJECT_ID_PATTERN, TENANT_ID_PATTERN } from './ids';

/**
 * Buffer access tokens: what an agent holds instead of store credentials. One token opens one
 * object of one tenant, for reading or for writing, until it expires:
 * `vbt_<base64url JSON claims>.<base64url HMAC-SHA256 of "vbt_<claims>">`. Any gateway node with
 * the same secret (VSC_BUFFER_TOKEN_SECRET) verifies it, before and after a restart.
 */
export const BufferTokenScope = { read: 'read', write: 'write' } as const;
export type BufferTokenScope = (typeof BufferTokenScope)[keyof typeof BufferTokenScope];

export interface BufferTokenClaims {
  tenantId: string;
  connectorId: string;
  objectId: string;
  scope: BufferTokenScope;
  /** ms since the epoch. */
  expiresAt: number;
  /** The agent session the token was granted to, when it was: the gateway refuses it once that session ends. */
  sessionId?: string;
}

export const MIN_TOKEN_SECRET_BYTES = 32;
/** A token outliving its object's 24 h is useless; a week bounds a mistaken ttl. */
export const MAX_TOKEN_TTL_SECONDS = 7 * 86_400;
const PREFIX = 'vbt_';
const TOKEN_SHAPE = /^vbt_([A-Za-z0-9_-]{16,2048})\.([A-Za-z0-9_-]{43})$/;

const Payload = z.object({
  v: z.literal(1),
  t: z.string().regex(TENANT_ID_PATTERN),
  c: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/),
  o: z.string().regex(OBJECT_ID_PATTERN),
  s: z.enum(['read', 'write']),
  exp: z.number().int().positive(),
  /** Random: no two grants give the same token (so one in a log names one grant). */
  n: z.string().regex(/^[A-Za-z0-9_-]{11}$/),
  /** Agent session id (optional: tokens issued outside a session have none). */
  sid: z
    .string()
    .regex(/^[A-Za-z0-9-]{8,64}$/)
    .optional(),
});

/** The secret as configured: base64 of at least 32 random bytes. Errors never echo it. */
export function parseTokenSecret(value: string): Buffer {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value.trim()))
    throw new BufferError(BufferErrorCode.badInput, 'the token secret must be base64 (of at least 32 random bytes)');
  // Node's base64 decoder takes the URL-safe alphabet too.
  const secret = Buffer.from(value.trim(), 'base64');
  if (secret.length < MIN_TOKEN_SECRET_BYTES) {
    throw new BufferError(
      BufferErrorCode.badInput,
      `the token secret is ${secret.length} bytes; it must be base64 of at least ${MIN_TOKEN_SECRET_BYTES} random bytes`,
    );
  }
  return secret;
}

const mac = (secret: Buffer, body: string) => createHmac('sha256', secret).update(body).digest();

export function issueBufferToken(
  secret: Buffer,
  grant: {
    tenantId: string;
    connectorId: string;
    objectId: string;
    scope: BufferTokenScope;
    ttlSeconds: number;
    sessionId?: string;
  },
  now: number = Date.now(),
): string {
  if (secret.length < MIN_TOKEN_SECRET_BYTES)
    throw new BufferError(
      BufferErrorCode.badInput,
      `the token secret must be at least ${MIN_TOKEN_SECRET_BYTES} bytes`,
    );
  if (!Number.isSafeInteger(grant.ttlSeconds) || grant.ttlSeconds < 1 || grant.ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
    throw new BufferError(
      BufferErrorCode.badInput,
      `ttlSeconds must be a whole number from 1 to ${MAX_TOKEN_TTL_SECONDS}`,
    );
  }
  const payload = Payload.safeParse({
    v: 1,
    t: grant.tenantId,
    c: grant.connectorId,
    o: grant.objectId,
    s: grant.scope,
    exp: Math.floor(now / 1000) + grant.ttlSeconds,
    n: randomBytes(8).toString('base64url'),
    ...(grant.sessionId ? { sid: grant.sessionId } : {}),
  });
  if (!payload.success)
    throw new BufferError(
      BufferErrorCode.badInput,
      'a buffer token needs a valid tenant id, connector id, object id and scope',
    );
  const body = `${PREFIX}${Buffer.from(JSON.stringify(payload.data)).toString('base64url')}`;
  return `${body}.${mac(secret, body).toString('base64url')}`;
}

const refused = (reason: 'malformed' | 'signature' | 'expired', message: string) =>
  new BufferError(BufferErrorCode.unauthorized, message, { reason });

/** The claims of a token this secret signed and that has not expired; else UNAUTHORIZED with a reason. */
export function verifyBufferToken(secret: Buffer, token: string, now: number = Date.now()): BufferTokenClaims {
  const match = TOKEN_SHAPE.exec(token);
  if (!match) throw refused('malformed', 'not a buffer access token (expected vbt_<claims>.<signature>)');
  const body = `${PREFIX}${match[1]}`;
  const given = Buffer.from(match[2]!, 'base64url');
  const expected = mac(secret, body);
  // The signature is checked before anything in the token is parsed or believed.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw refused(
      'signature',
      'the buffer token was not issued by this platform (bad signature); ask the gateway for a new one',
    );
  }
  let parsed;
  try {
    parsed = Payload.safeParse(JSON.parse(Buffer.from(match[1]!, 'base64url').toString('utf8')));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success)
    throw refused('malformed', 'the buffer token is signed but unreadable; ask the gateway for a new one');
  const p = parsed.data;
  const expiresAt = p.exp * 1000;
  if (expiresAt <= now)
    throw refused(
      'expired',
      `the buffer token expired at ${new Date(expiresAt).toISOString()}; ask the gateway for a new one`,
    );
  return {
    tenantId: p.t,
    connectorId: p.c,
    objectId: p.o,
    scope: p.s,
    expiresAt,
    ...(p.sid ? { sessionId: p.sid } : {}),
  };
}

/** Checks a verified token opens this object for this operation; FORBIDDEN otherwise. */
export function assertTokenCovers(claims: BufferTokenClaims, objectId: string, scope: BufferTokenScope): void {
  if (claims.objectId !== objectId)
    throw new BufferError(BufferErrorCode.forbidden, 'this buffer token is for another object', { reason: 'object' });
  if (claims.scope !== scope)
    throw new BufferError(BufferErrorCode.forbidden, `this buffer token allows ${claims.scope}, not ${scope}`, {
      reason: 'scope',
    });
}
