import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyRequest, RouteOptions } from 'fastify';
import {
  assertTokenCovers,
  BufferError,
  BufferErrorCode,
  verifyBufferToken,
  type BufferTokenClaims,
  type BufferTokenScope,
} from '@vansales/buffer';
import { MACHINE_ID_HEADER } from '@vansales/protocol';
import type { AgentIdentity } from '../agent-hub/agent-connection';
import { GatewayError, GatewayErrorCode } from '../errors';

/**
 * Who may call a route, declared by the route itself (`config: { auth }`). A route that declares
 * nothing is refused at start-up, so a new route cannot be public by omission.
 * - `public`: anyone (health, the OpenAPI document, CORS preflights).
 * - `admin`: the control-plane bearer token (operators, console, CLI).
 * - `{ buffer: scope }`: a buffer token for the `:objectId` of the path, with that scope.
 * - `agent-key`: an agent's API key, plus its machine id header (the WebSocket upgrade).
 */
export type RouteAuth = 'public' | 'admin' | { buffer: BufferTokenScope } | 'agent-key';

/** What the auth hook proved about the caller. */
export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'admin' }
  | { kind: 'buffer'; claims: BufferTokenClaims }
  | { kind: 'agent'; identity: AgentIdentity };

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    /** Set by the auth hook before anything else runs (body parsing included). */
    principal: Principal;
    /**
     * The tenant this request acts in: from the credential when it is bound to one (buffer token,
     * agent key), else from the validated `:tenantId` of the path (admin routes). Undefined on public routes.
     */
    readonly tenantId: string | undefined;
  }
}

/** OpenAPI security scheme names, one per kind of credential. */
export const SecurityScheme = { adminToken: 'adminToken', bufferToken: 'bufferToken', agentKey: 'agentKey' } as const;

export const SECURITY_SCHEMES = {
  [SecurityScheme.adminToken]: {
    type: 'http',
    scheme: 'bearer',
    description: 'The control-plane token (VSC_ADMIN_TOKEN).',
  },
  [SecurityScheme.bufferToken]: {
    type: 'http',
    scheme: 'bearer',
    description: 'An object- and scope-bound buffer token from a grant (vbt_…).',
  },
  [SecurityScheme.agentKey]: {
    type: 'http',
    scheme: 'bearer',
    description: `An agent API key (vmc_…), with the ${MACHINE_ID_HEADER} header.`,
  },
} as const;

function securityOf(auth: RouteAuth): Record<string, string[]>[] {
  if (auth === 'public') return [];
  if (auth === 'admin') return [{ [SecurityScheme.adminToken]: [] }];
  if (auth === 'agent-key') return [{ [SecurityScheme.agentKey]: [] }];
  return [{ [SecurityScheme.bufferToken]: [] }];
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** Constant-time comparison of two secrets of any length. */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export interface AuthOptions {
  adminToken: string;
  /** Secret of the buffer tokens; without it no buffer route can be authorised. */
  bufferTokenSecret?: Buffer;
}

/**
 * The one authentication hook. It runs on `onRequest`, before a body is read, so a caller
 * without the right credential never gets a 32 MiB chunk buffered. Each route's OpenAPI
 * `security` is written from the same declaration, so the document cannot disagree with it.
 */
export const authPlugin = fp<AuthOptions>(
  async (app, { adminToken, bufferTokenSecret }) => {
    // Set by the hook below on every routed request; null only on unknown routes.
    app.decorateRequest('principal', null as never);
    app.decorateRequest('tenantId', {
      getter(this: FastifyRequest) {
        const p = this.principal;
        if (p?.kind === 'buffer') return p.claims.tenantId;
        if (p?.kind === 'agent') return p.identity.tenantId;
        if (p?.kind === 'admin') {
          const tenantId = (this.params as { tenantId?: unknown } | undefined)?.tenantId;
          return typeof tenantId === 'string' ? tenantId : undefined;
        }
        return undefined;
      },
    });

    app.addHook('onRoute', (route: RouteOptions) => {
      const auth = route.config?.auth;
      if (!auth)
        throw new Error(
          `route ${route.method} ${route.url} declares no config.auth (public, admin, buffer or agent-key)`,
        );
      route.schema = { ...route.schema, security: securityOf(auth) };
    });

    app.addHook('onRequest', async (req) => {
      if (req.is404) return;
      const auth = req.routeOptions.config.auth;
      if (auth === 'public') {
        req.principal = { kind: 'anonymous' };
        return;
      }
      if (auth === 'admin') {
        const token = bearerToken(req.headers.authorization);
        if (!token || !secretsEqual(token, adminToken))
          throw new GatewayError(
            GatewayErrorCode.unauthorized,
            'this endpoint needs Authorization: Bearer <admin token>',
          );
        req.principal = { kind: 'admin' };
        return;
      }
      if (auth === 'agent-key') {
        const key = bearerToken(req.headers.authorization);
        if (!key)
          throw new GatewayError(GatewayErrorCode.unauthorized, 'missing Authorization: Bearer <agent API key> header');
        const machineId = req.headers[MACHINE_ID_HEADER];
        if (typeof machineId !== 'string' || !/^[A-Za-z0-9._-]{8,128}$/.test(machineId)) {
          throw new GatewayError(
            GatewayErrorCode.badRequest,
            `missing or malformed ${MACHINE_ID_HEADER} header (8-128 letters, digits, . _ -)`,
          );
        }
        req.principal = { kind: 'agent', identity: await app.keys.authenticateAgent(key, machineId) };
        return;
      }
      if (auth && typeof auth === 'object') {
        const token = bearerToken(req.headers.authorization);
        if (!token)
          throw new BufferError(
            BufferErrorCode.unauthorized,
            'this endpoint needs Authorization: Bearer <buffer token>',
            { reason: 'missing' },
          );
        if (!bufferTokenSecret) throw new GatewayError(GatewayErrorCode.unavailable, 'this gateway serves no buffer');
        const claims = verifyBufferToken(bufferTokenSecret, token);
        assertTokenCovers(claims, (req.params as { objectId?: string }).objectId ?? '', auth.buffer);
        req.principal = { kind: 'buffer', claims };
        return;
      }
      // Unreachable through onRoute's check; refuse rather than serve an undeclared route.
      throw new GatewayError(GatewayErrorCode.internal, 'route without an auth declaration');
    });
  },
  { name: 'auth', fastify: '5.x', dependencies: ['key-service', '@fastify/websocket'] },
);

/** The tenant a request acts in (see `tenantId`); a route reached without one is a wiring fault. */
export function tenantOf(req: FastifyRequest): string {
  const tenantId = req.tenantId;
  if (!tenantId) throw new GatewayError(GatewayErrorCode.internal, `${req.routeOptions.url} reached without a tenant`);
  return tenantId;
}
