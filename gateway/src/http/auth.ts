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
import { AgentProofHeader, checkApiKey, MACHINE_ID_HEADER } from '@vansales/protocol';
import type { AgentIdentity } from '../agent-hub/agent-connection';
import { GatewayError, GatewayErrorCode } from '../errors';
import type { ProofContext } from '../services/key-service';
import type { PersonCredential } from '../services/identity-service';
import { runInTenantScope, type MemberRole } from '@vansales/metadata';
import { accessOf, roleAllows, ROLE_PERMISSIONS, type Access } from './access';
import { createAuthThrottle, type AuthThrottle, type AuthThrottleSettings } from './auth-throttle';

/**
 * Who may call a route, declared by the route itself (`config: { auth }`). A route that declares
 * nothing is refused at start-up, so a new route cannot be public by omission.
 * - `public`: anyone (health, the OpenAPI document, CORS preflights).
 * - `admin`: the control plane: the admin token (while enabled), a person's session or API token, or a
 *   tenant's API token, and the route's row in `ROUTE_ACCESS` (./access.ts) decides what each may do.
 * - `{ buffer: scope }`: a buffer token for the `:objectId` of the path, with that scope.
 * - `agent-key`: an agent's API key and a signature by its enrolled key pair over a fresh challenge
 *   (the WebSocket upgrade).
 * - `agent-key-unproven`: an agent's API key alone, for the steps before a proof (asking for a
 *   challenge, enrolling); the route's handler resolves the key. Failures count towards the throttle.
 */
export type RouteAuth = 'public' | 'admin' | { buffer: BufferTokenScope } | 'agent-key' | 'agent-key-unproven';

/** What the auth hook proved about the caller. */
export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'admin' }
  | { kind: 'buffer'; claims: BufferTokenClaims }
  | { kind: 'agent'; identity: AgentIdentity }
  | { kind: 'agent-key'; apiKey: string }
  | PersonCredential;

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
    /** Set from ROUTE_ACCESS for control-plane routes when they are registered. */
    access?: Access;
  }
  interface FastifyRequest {
    /** Set by the auth hook before anything else runs (body parsing included). */
    principal: Principal;
    /**
     * The tenant this request acts in: from the credential when it is bound to one (buffer token,
     * agent key), else from the validated `:tenantId` of the path (admin routes). Undefined on public routes.
     */
    readonly tenantId: string | undefined;
    /** The caller's role in the path's tenant (persons and tenant tokens; undefined for the admin token). */
    memberRole: MemberRole | undefined;
  }
}

/** OpenAPI security scheme names, one per kind of credential. */
export const SecurityScheme = {
  adminToken: 'adminToken',
  sessionToken: 'sessionToken',
  apiToken: 'apiToken',
  bufferToken: 'bufferToken',
  agentKey: 'agentKey',
} as const;

export const SECURITY_SCHEMES = {
  [SecurityScheme.adminToken]: {
    type: 'http',
    scheme: 'bearer',
    description: 'The bootstrap token (VSC_ADMIN_TOKEN), unless VSC_ADMIN_TOKEN_DISABLED.',
  },
  [SecurityScheme.sessionToken]: {
    type: 'http',
    scheme: 'bearer',
    description: 'A sign-in session of a person (vss_…, from POST /v1/sessions).',
  },
  [SecurityScheme.apiToken]: {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token of a person or a tenant (vat_…), scoped to a tenant and a role.',
  },
  [SecurityScheme.bufferToken]: {
    type: 'http',
    scheme: 'bearer',
    description: 'An object- and scope-bound buffer token from a grant (vbt_…).',
  },
  [SecurityScheme.agentKey]: {
    type: 'http',
    scheme: 'bearer',
    description: `An agent API key (vmc_…); on the WebSocket also the ${AgentProofHeader.challenge} and ${AgentProofHeader.proof} headers (a signature by the agent's enrolled key pair).`,
  },
} as const;

function securityOf(auth: RouteAuth): Record<string, string[]>[] {
  if (auth === 'public') return [];
  if (auth === 'admin')
    return [
      { [SecurityScheme.adminToken]: [] },
      { [SecurityScheme.sessionToken]: [] },
      { [SecurityScheme.apiToken]: [] },
    ];
  if (auth === 'agent-key' || auth === 'agent-key-unproven') return [{ [SecurityScheme.agentKey]: [] }];
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
  /** The bootstrap token; undefined: turned off (VSC_ADMIN_TOKEN_DISABLED), only people's credentials work. */
  adminToken: string | undefined;
  /** Secret of the buffer tokens; without it no buffer route can be authorised. */
  bufferTokenSecret?: Buffer;
  /** Names agents dial this gateway by (VSC_GATEWAY_PUBLIC_HOSTS); unset: the request's Host. */
  publicHosts?: readonly string[];
  /** Failed agent authentications allowed per source and per key prefix (VSC_AUTH_*). */
  throttle?: AuthThrottleSettings;
}

export const DEFAULT_AUTH_THROTTLE: AuthThrottleSettings = { failuresPerWindow: 10, windowMs: 300_000 };

declare module 'fastify' {
  interface FastifyInstance {
    /** Failed agent authentications: counts, and the 429 gate. */
    authThrottle: AuthThrottle;
    /**
     * Runs an agent-key check for `req`: answers 429 when its source or key prefix failed too often,
     * and counts and logs a 401/403 it throws.
     */
    guardAgentAuth<T>(req: FastifyRequest, apiKey: string | undefined, check: () => Promise<T>): Promise<T>;
    /** What a proof from this request must be bound to. */
    proofContext(req: FastifyRequest): ProofContext;
  }
}

/** The informational machine label an agent sends, if well-formed (never trusted for access). */
function machineLabelOf(req: FastifyRequest): string | undefined {
  const label = req.headers[MACHINE_ID_HEADER];
  return typeof label === 'string' && /^[A-Za-z0-9._-]{8,128}$/.test(label) ? label : undefined;
}

function headerOf(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value.length <= 256 ? value : undefined;
}

/**
 * The one authentication hook. It runs on `onRequest`, before a body is read, so a caller
 * without the right credential never gets a 32 MiB chunk buffered. Each route's OpenAPI
 * `security` is written from the same declaration, so the document cannot disagree with it.
 */
export const authPlugin = fp<AuthOptions>(
  async (app, { adminToken, bufferTokenSecret, publicHosts, throttle }) => {
    const authThrottle = createAuthThrottle(throttle ?? DEFAULT_AUTH_THROTTLE);
    app.decorate('authThrottle', authThrottle);
    app.decorate('proofContext', (req: FastifyRequest): ProofContext => {
      const host = req.headers.host?.toLowerCase();
      return {
        audiences: publicHosts && publicHosts.length > 0 ? publicHosts : host ? [host] : [],
        machineLabel: machineLabelOf(req),
      };
    });
    app.decorate(
      'guardAgentAuth',
      async <T>(req: FastifyRequest, apiKey: string | undefined, check: () => Promise<T>): Promise<T> => {
        const parsed = apiKey ? checkApiKey(apiKey) : undefined;
        // The key's lookup id is not secret (it is in every log label); a malformed key shares one bucket.
        const prefix = parsed?.ok ? parsed.key.lookup : '(malformed)';
        const subjects = [`source:${req.ip}`, `key:${prefix}`];
        const waitMs = authThrottle.retryAfterMs(subjects);
        if (waitMs > 0)
          throw new GatewayError(
            GatewayErrorCode.tooManyRequests,
            `too many failed authentications from this address or with this key; try again in ${Math.ceil(waitMs / 1000)} s`,
            { retryAfterSeconds: Math.ceil(waitMs / 1000) },
          );
        try {
          return await check();
        } catch (err) {
          if (
            err instanceof GatewayError &&
            (err.code === GatewayErrorCode.unauthorized || err.code === GatewayErrorCode.forbidden)
          ) {
            authThrottle.recordFailure(subjects);
            req.log.warn(
              {
                source: req.ip,
                keyPrefix: prefix,
                reason: err.details?.reason ?? err.code,
                route: req.routeOptions.url,
              },
              'agent authentication failed',
            );
          }
          throw err;
        }
      },
    );
    // Set by the hook below on every routed request; null only on unknown routes.
    app.decorateRequest('principal', null as never);
    app.decorateRequest('memberRole', undefined);
    app.decorateRequest('tenantId', {
      getter(this: FastifyRequest) {
        const p = this.principal;
        if (p?.kind === 'buffer') return p.claims.tenantId;
        if (p?.kind === 'agent') return p.identity.tenantId;
        if (p?.kind === 'admin' || p?.kind === 'person' || p?.kind === 'tenant-token') {
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
      if (auth === 'admin') {
        // HEAD routes fastify adds for GET share their GET's row.
        const methods = [route.method].flat().map((m) => (m === 'HEAD' ? 'GET' : m));
        const rows = methods.map((m) => accessOf(m, route.url));
        const access = rows[0];
        if (!access || rows.some((r) => r !== access))
          throw new Error(
            `route ${methods.join(',')} ${route.url} has no row in ROUTE_ACCESS (gateway/src/http/access.ts)`,
          );
        route.config = { ...route.config, access };
      }
      route.schema = { ...route.schema, security: securityOf(auth) };
    });

    /** The control plane: who the bearer is, then the route's row of ROUTE_ACCESS against their role. */
    const authorizeControlPlane = async (req: FastifyRequest): Promise<void> => {
      const token = bearerToken(req.headers.authorization);
      const access = req.routeOptions.config.access;
      if (token && adminToken && secretsEqual(token, adminToken)) {
        req.principal = { kind: 'admin' };
        return;
      }
      const credential = token ? await app.identity.authenticate(token) : undefined;
      if (!credential)
        throw new GatewayError(
          GatewayErrorCode.unauthorized,
          'this endpoint needs Authorization: Bearer <admin token>, a session token (POST /v1/sessions) or an API token; the one given is unknown, expired or revoked',
        );
      req.principal = credential;
      if (access === 'admin-token')
        throw new GatewayError(GatewayErrorCode.forbidden, 'only the bootstrap admin token may call this endpoint');
      if (access === 'signed-in') {
        // API tokens are bound to one tenant: making tenants or acting as the person needs a session.
        if (credential.kind === 'tenant-token' || 'tokenId' in credential)
          throw new GatewayError(
            GatewayErrorCode.forbidden,
            'an API token acts inside its tenant only; sign in (POST /v1/sessions) for this',
          );
        return;
      }
      if (!access) throw new GatewayError(GatewayErrorCode.internal, 'route without an access row');
      const tenantId = (req.params as { tenantId?: unknown } | undefined)?.tenantId;
      const role = typeof tenantId === 'string' ? await app.identity.roleIn(credential, tenantId) : undefined;
      // Not a member (or another tenant's token): the tenant does not exist as far as the caller can tell.
      if (!role) throw new GatewayError(GatewayErrorCode.notFound, `tenant ${String(tenantId)} not found`);
      if (!roleAllows(role, access)) {
        const roles = Object.entries(ROLE_PERMISSIONS)
          .filter(([, permissions]) => permissions.has(access))
          .map(([r]) => r);
        throw new GatewayError(
          GatewayErrorCode.forbidden,
          `your role in ${tenantId} is ${role}; this needs ${access} (roles: ${roles.join(', ')})`,
          { role, permission: access },
        );
      }
      req.memberRole = role;
    };

    app.addHook('onRequest', async (req) => {
      if (req.is404) return;
      const auth = req.routeOptions.config.auth;
      if (auth === 'public') {
        req.principal = { kind: 'anonymous' };
        return;
      }
      if (auth === 'admin') {
        await authorizeControlPlane(req);
        return;
      }
      if (auth === 'agent-key' || auth === 'agent-key-unproven') {
        const key = bearerToken(req.headers.authorization);
        await app.guardAgentAuth(req, key, async () => {
          if (!key)
            throw new GatewayError(
              GatewayErrorCode.unauthorized,
              'missing Authorization: Bearer <agent API key> header',
            );
          if (auth === 'agent-key-unproven') {
            req.principal = { kind: 'agent-key', apiKey: key };
            return;
          }
          const proof = {
            challengeId: headerOf(req, AgentProofHeader.challenge),
            signature: headerOf(req, AgentProofHeader.proof),
          };
          req.principal = {
            kind: 'agent',
            identity: await app.keys.authenticateAgent(key, proof, app.proofContext(req)),
          };
        });
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

    // The second wall (row-level security, metadata migration 0024): a tenant route's handler runs in
    // its tenant's scope, so every metadata query it makes sees only that tenant's rows even if the
    // query forgot its predicate. Entered here, after the membership check above and after the body
    // was read (a scope entered in onRequest is lost across the body stream's events), as a callback
    // hook: `done` runs the remaining hooks and the handler inside the scope.
    app.addHook('preHandler', (req, _reply, done) => {
      const tenantId = req.routeOptions.config.auth === 'admin' ? req.tenantId : undefined;
      if (tenantId) runInTenantScope(tenantId, done);
      else done();
    });
  },
  { name: 'auth', fastify: '5.x', dependencies: ['key-service', 'identity-service', '@fastify/websocket'] },
);

/** The tenant a request acts in (see `tenantId`); a route reached without one is a wiring fault. */
export function tenantOf(req: FastifyRequest): string {
  const tenantId = req.tenantId;
  if (!tenantId) throw new GatewayError(GatewayErrorCode.internal, `${req.routeOptions.url} reached without a tenant`);
  return tenantId;
}
