import { createHash, randomBytes } from 'node:crypto';
import fp from 'fastify-plugin';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import type { IdentityRepository } from '@vansales/metadata';
import { GatewayError, GatewayErrorCode } from '../errors';
import type { Logger } from '../logger';
import type { IdentityService, Origin } from './identity-service';
import { memoryWindow, type SlidingWindow } from './rate-window';

/**
 * Single sign-on through OpenID Connect (issue 12 section 1): the authorization code flow with
 * PKCE (S256), a single-use expiring state and nonce, and the ID token verified with `jose`
 * (signature through the provider's JWKS, issuer, audience, nonce, expiry). The person is signed
 * in by their verified email: an existing account is linked, a new one is created when the
 * address's domain is allowed. The answer is a session like POST /v1/sessions.
 */
export const SsoProviderConfig = z.object({
  /** The `:provider` of the routes. */
  name: z.string().regex(/^[a-z0-9-]{1,40}$/, 'a provider name is 1-40 of a-z, 0-9 and -'),
  issuer: z.string().url(),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  /** This gateway's callback as the provider knows it: `<public URL>/v1/sso/<name>/callback`. */
  redirectUri: z.string().url(),
  /** Email domains whose people may sign in (and get an account on first sign-in). */
  allowedDomains: z.array(z.string().min(1).toLowerCase()).min(1),
  scope: z.string().default('openid email profile'),
});
export type SsoProviderConfig = z.infer<typeof SsoProviderConfig>;

/** `VSC_SSO_PROVIDERS`: a JSON array of providers (holds client secrets: keep it with the other secrets). */
export const SsoProvidersEnv = z
  .string()
  .default('[]')
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'VSC_SSO_PROVIDERS is not JSON (a list of providers)' });
      return z.NEVER;
    }
  })
  .pipe(z.array(SsoProviderConfig));

export interface SsoSettings {
  /** How long a started sign-in may take before its state is refused. */
  stateTtlMs: number;
  /** Sign-ins in progress kept at most (the start route is public: the store must stay bounded). */
  maxPending: number;
  /** Sign-ins one source address may start per window (`startWindowMs`) before 429. */
  startsPerWindow: number;
  startWindowMs: number;
}

export const DEFAULT_SSO_SETTINGS: SsoSettings = {
  stateTtlMs: 10 * 60_000,
  maxPending: 10_000,
  startsPerWindow: 20,
  startWindowMs: 60_000,
};

/** Where sign-ins in progress are kept: the metadata store, so any gateway node can finish one. */
export type SsoStateStore = Pick<IdentityRepository, 'putSsoState' | 'takeSsoState' | 'sweepSsoStates'>;

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

const random = () => randomBytes(32).toString('base64url');
const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
/** States are stored by their hash: a read of the table gives no state a callback would accept. */
const stateKey = (state: string) => createHash('sha256').update(state).digest();
const refuse = (reason: string, message: string) =>
  new GatewayError(GatewayErrorCode.unauthorized, message, { reason });

export function createSsoService(deps: {
  providers: SsoProviderConfig[];
  identity: IdentityService;
  states: SsoStateStore;
  /** Counts starts per address: Redis's window (shared by the nodes) when there is one. */
  window?: SlidingWindow;
  settings?: Partial<SsoSettings>;
  now?: () => number;
  log?: Logger;
}) {
  const settings: SsoSettings = { ...DEFAULT_SSO_SETTINGS, ...deps.settings };
  const now = deps.now ?? Date.now;
  const providers = new Map(deps.providers.map((p) => [p.name, p]));
  const fallbackWindow = memoryWindow(now);
  const window = deps.window ?? fallbackWindow;

  /** 429 with Retry-After once an address started too many sign-ins (the route is public). */
  const throttleStart = async (ip: string) => {
    const key = `sso-start:${ip}`;
    const taken = await window.take(key, settings.startsPerWindow, settings.startWindowMs).catch((err: unknown) => {
      // Redis away: this node counts alone meanwhile rather than refuse every sign-in.
      deps.log?.warn({ err: (err as Error).message }, 'sign-on start window unreachable; counting in this process');
      return fallbackWindow.take(key, settings.startsPerWindow, settings.startWindowMs);
    });
    if (!taken.ok) {
      const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
      throw new GatewayError(
        GatewayErrorCode.tooManyRequests,
        `too many single sign-ons started from this address; try again in ${seconds} s`,
        { retryAfterSeconds: seconds },
      );
    }
  };
  const discovered = new Map<string, Promise<{ discovery: Discovery; jwks: ReturnType<typeof createRemoteJWKSet> }>>();

  const providerOf = (name: string) => {
    const p = providers.get(name);
    if (!p) throw new GatewayError(GatewayErrorCode.notFound, `no single sign-on provider named ${name}`);
    return p;
  };

  const discover = (p: SsoProviderConfig) => {
    let found = discovered.get(p.name);
    if (!found) {
      found = (async () => {
        const res = await fetch(`${p.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
        if (!res.ok) throw new Error(`discovery answered ${res.status}`);
        const discovery = (await res.json()) as Discovery;
        if (discovery.issuer !== p.issuer) throw new Error(`discovery names the issuer ${discovery.issuer}`);
        return { discovery, jwks: createRemoteJWKSet(new URL(discovery.jwks_uri)) };
      })();
      discovered.set(p.name, found);
      // A failed discovery is tried again on the next sign-in rather than cached.
      found.catch(() => discovered.delete(p.name));
    }
    return found.catch((err: unknown) => {
      throw new GatewayError(
        GatewayErrorCode.unavailable,
        `the provider ${p.name} cannot be reached (${err instanceof Error ? err.message : String(err)})`,
      );
    });
  };

  return {
    providers: () => [...providers.keys()],

    /** The provider's authorization URL for a new sign-in (state, nonce and PKCE verifier kept in the store). */
    async start(name: string, origin: Origin): Promise<string> {
      const p = providerOf(name);
      await throttleStart(origin.ip);
      const { discovery } = await discover(p);
      if ((await deps.states.sweepSsoStates(new Date(now()))) >= settings.maxPending)
        throw new GatewayError(GatewayErrorCode.tooManyRequests, 'too many sign-ins in progress; try again shortly', {
          retryAfterSeconds: 30,
        });
      const state = random();
      const entry = { provider: name, nonce: random(), verifier: random() };
      await deps.states.putSsoState({
        stateHash: stateKey(state),
        ...entry,
        expiresAt: new Date(now() + settings.stateTtlMs),
      });
      const url = new URL(discovery.authorization_endpoint);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: p.clientId,
        redirect_uri: p.redirectUri,
        scope: p.scope,
        state,
        nonce: entry.nonce,
        code_challenge: s256(entry.verifier),
        code_challenge_method: 'S256',
      }).toString();
      return url.toString();
    },

    /** Finishes a sign-in: the state is used up, the code exchanged, the ID token verified, the person signed in. */
    async callback(name: string, query: { state?: string; code?: string; error?: string }, origin: Origin) {
      const p = providerOf(name);
      if (query.state === undefined)
        throw new GatewayError(
          GatewayErrorCode.badRequest,
          `the callback carries no state: start the sign-in at /v1/sso/${name}/start`,
        );
      // Single use: deleted as it is read, before anything else is checked, so a replay finds nothing.
      const entry = await deps.states.takeSsoState(stateKey(query.state));
      if (!entry || entry.provider !== name || entry.expiresAt.getTime() <= now())
        throw refuse('sso-state', 'this sign-in is unknown, used already or expired: start it again');
      if (query.error) throw refuse('sso-provider-error', `the provider refused the sign-in (${query.error})`);
      if (!query.code) throw new GatewayError(GatewayErrorCode.badRequest, 'the callback carries no code');
      const { discovery, jwks } = await discover(p);
      const res = await fetch(discovery.token_endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(p.clientId)}:${encodeURIComponent(p.clientSecret)}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: query.code,
          redirect_uri: p.redirectUri,
          code_verifier: entry.verifier,
        }),
      });
      const tokens = (await res.json().catch(() => ({}))) as { id_token?: string; error?: string };
      if (!res.ok || !tokens.id_token)
        throw refuse('sso-code', `the provider did not exchange the code (${tokens.error ?? res.status})`);
      let claims: JWTPayload;
      try {
        ({ payload: claims } = await jwtVerify(tokens.id_token, jwks, {
          issuer: p.issuer,
          audience: p.clientId,
          clockTolerance: 5,
        }));
      } catch (err) {
        const why = err instanceof joseErrors.JOSEError ? `${err.code}: ${err.message}` : 'unreadable';
        throw refuse('sso-id-token', `the ID token does not verify (${why})`);
      }
      if (claims.nonce !== entry.nonce)
        throw refuse('sso-nonce', 'the ID token was not issued for this sign-in (nonce)');
      const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : undefined;
      if (!email || claims.email_verified !== true)
        throw new GatewayError(GatewayErrorCode.forbidden, 'the provider vouches for no verified email address');
      const domain = email.slice(email.lastIndexOf('@') + 1);
      if (!p.allowedDomains.includes(domain)) {
        await deps.identity.auditRefusedVerified(email, name, origin, 403, 'sso-domain');
        throw new GatewayError(
          GatewayErrorCode.forbidden,
          `the domain ${domain} may not sign in through ${name}; ask an owner to allow it`,
        );
      }
      const displayName = typeof claims.name === 'string' ? claims.name : undefined;
      return deps.identity.signInVerified({ email, displayName, provider: name }, origin);
    },
  };
}
export type SsoService = ReturnType<typeof createSsoService>;

declare module 'fastify' {
  interface FastifyInstance {
    sso: SsoService;
  }
}

export const ssoServicePlugin = fp<Omit<Parameters<typeof createSsoService>[0], 'identity'>>(
  async (app, deps) => void app.decorate('sso', createSsoService({ ...deps, identity: app.identity })),
  { name: 'sso-service', fastify: '5.x', dependencies: ['identity-service'] },
);
