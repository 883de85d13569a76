import { createHash } from 'node:crypto';
import type { SecurityRequirements, SecurityScheme } from '../manifest';
import { AuthError, AuthErrorCode } from './auth-error';
import type { Credential } from './credential';
import type { CredentialStore } from './credential-store';
import { pkcePair, randomState, requestToken, type OAuthToken } from './oauth-client';
import { requireSecureTransport } from './transport';

/** What the host attaches to one outgoing request. The sandboxed code never sees it. */
export interface OutgoingCredentials {
  headers: Record<string, string>;
  query: Record<string, string>;
  cookies: Record<string, string>;
  /** A `mutualTLS` scheme's client certificate, for the host's HTTPS transport to present. */
  clientCertificate?: { cert: string; key: string; passphrase?: string; ca?: string };
}

export interface CredentialRequest {
  tenantId: string;
  /** The API whose manifest declares the schemes (its registry reference). */
  apiRef: string;
  /** The operation's effective security requirements (alternatives; `[]` means none). */
  requirements: SecurityRequirements;
  /** Where the request goes: HTTP Basic is refused over plain HTTP except to loopback. */
  url: string | URL;
}

/** What the sandbox's host HTTP function asks for; credentials stay on the host side of it. */
export interface CredentialProvider {
  credentialsFor(request: CredentialRequest): Promise<OutgoingCredentials>;
}

/** Told to the owner (the audit, the API's credential status, later the console). No secrets. */
export type AuthEvent =
  | {
      type: 'oauth.token-issued';
      tenantId: string;
      credential: string;
      grant: 'client_credentials' | 'authorization_code' | 'refresh_token';
    }
  | { type: 'oauth.refresh-failed'; tenantId: string; credential: string; code: AuthErrorCode; message: string };

export interface AuthenticatorDeps {
  store: CredentialStore;
  /** The security schemes an API declares (its manifest's `securitySchemes`), or undefined for an unknown API. */
  schemesOf(tenantId: string, apiRef: string): Promise<Record<string, SecurityScheme> | undefined>;
  /** Refresh this long before expiry (default 60 s). */
  refreshSkewMs?: number;
  /** How long an authorization code flow may take (default 10 min). */
  authorizationTtlMs?: number;
  now?: () => number;
  fetch?: typeof fetch;
  onEvent?: (event: AuthEvent) => void | Promise<void>;
}

/** The store name of the secret an API's scheme uses: `<apiRef>.<scheme>` (OAuth: the client). */
export function credentialName(apiRef: string, schemeName: string): string {
  return `${apiRef}.${schemeName}`;
}
/** Where the tokens of an OAuth scheme are cached (scopes of a client-credentials token in its name). */
export function tokenName(credential: string, scopes: readonly string[] = []): string {
  if (scopes.length === 0) return `${credential}.token`;
  const digest = createHash('sha256')
    .update([...new Set(scopes)].sort().join(' '))
    .digest('hex')
    .slice(0, 16);
  return `${credential}.token.${digest}`;
}
const pendingName = (state: string) => `oauth-pending.${state}`;

/**
 * A state carries its tenant before the random part (`<tenant>_<random>`; tenant ids have no `_`), so
 * one callback address serves every tenant: the browser that comes back holds no platform token.
 * Knowing the tenant only says where to look: the pending flow is still found by the whole state.
 */
export function tenantOfState(state: string): string | undefined {
  const m = /^([a-z0-9][a-z0-9-]{1,39})_[A-Za-z0-9_-]{32,}$/.exec(state);
  return m?.[1];
}

/** Reserved store names: the platform's own rows (tokens, pending flows), never an owner's credential. */
export function isPlatformCredentialName(name: string): boolean {
  return name.startsWith('oauth-pending.') || /\.token(\.[0-9a-f]{16})?$/.test(name);
}

const MAX_DISCOVERY_BYTES = 256 * 1024;

const empty = (): OutgoingCredentials => ({ headers: {}, query: {}, cookies: {} });

/**
 * Applies an operation's security requirements to an outgoing request with the tenant's stored
 * credentials: API keys (header, query, cookie), HTTP Basic and Bearer, OAuth 2.0 client
 * credentials and authorization code with refresh. Tokens are cached in the store (sealed),
 * refreshed `refreshSkewMs` before they expire, one refresh at a time per credential in this
 * process; a refused refresh is recorded on the credential and told through `onEvent`.
 */
export function createAuthenticator(deps: AuthenticatorDeps) {
  const now = deps.now ?? Date.now;
  const skew = deps.refreshSkewMs ?? 60_000;
  const doFetch = deps.fetch ?? fetch;
  const { store } = deps;
  const inFlight = new Map<string, Promise<OAuthToken>>();
  // Discovery documents per URL for this process (they change rarely; a restart reads them again).
  const discovered = new Map<string, Promise<Extract<SecurityScheme, { type: 'oauth2' }>>>();

  /**
   * An openIdConnect scheme is OAuth 2.0 whose endpoints come from the provider's discovery document
   * (OpenID Connect Discovery 1.0): read once, over HTTPS (or loopback), its endpoints held to the same.
   */
  function discover(schemeName: string, url: string): Promise<Extract<SecurityScheme, { type: 'oauth2' }>> {
    let found = discovered.get(url);
    if (!found) {
      found = (async () => {
        requireSecureTransport(url, `the OpenID Connect discovery document of scheme ${schemeName}`);
        let doc: unknown;
        try {
          const res = await doFetch(url, { headers: { accept: 'application/json' }, redirect: 'error' });
          const text = await res.text();
          if (!res.ok) throw new Error(`answered ${res.status}`);
          if (text.length > MAX_DISCOVERY_BYTES) throw new Error(`is larger than ${MAX_DISCOVERY_BYTES} bytes`);
          doc = JSON.parse(text);
        } catch (err) {
          throw new AuthError(
            AuthErrorCode.tokenEndpointUnavailable,
            `the OpenID Connect discovery document of scheme ${schemeName} (${new URL(url).host}) could not be read: ${(err as Error).message.slice(0, 200)}`,
            true,
          );
        }
        const d = doc as Record<string, unknown>;
        const endpoint = (key: string) => {
          const value = d[key];
          if (typeof value !== 'string' || !URL.canParse(value))
            throw new AuthError(
              AuthErrorCode.badInput,
              `the OpenID Connect discovery document of scheme ${schemeName} has no ${key}`,
            );
          requireSecureTransport(value, `the ${key} of scheme ${schemeName}`);
          return value;
        };
        const scopes = Array.isArray(d.scopes_supported)
          ? Object.fromEntries(d.scopes_supported.filter((x) => typeof x === 'string').map((x: string) => [x, '']))
          : {};
        return {
          type: 'oauth2' as const,
          flows: {
            authorizationCode: {
              authorizationUrl: endpoint('authorization_endpoint'),
              tokenUrl: endpoint('token_endpoint'),
              scopes,
            },
          },
        };
      })();
      discovered.set(url, found);
      // A failure is not remembered: the next request reads again.
      found.catch(() => discovered.delete(url));
    }
    return found;
  }

  /** The scheme as attached: openIdConnect becomes the OAuth 2.0 scheme its discovery document describes. */
  async function effectiveScheme(schemeName: string, scheme: SecurityScheme): Promise<SecurityScheme> {
    return scheme.type === 'openIdConnect' ? discover(schemeName, scheme.openIdConnectUrl) : scheme;
  }

  // Not a type guard: a stale token is still an OAuthToken (its refresh token is what renews it).
  const freshToken = (t: Credential | undefined): OAuthToken | undefined =>
    t?.kind === 'oauth2-token' && (t.expiresAt === undefined || now() + skew < t.expiresAt) ? t : undefined;

  async function schemes(tenantId: string, apiRef: string): Promise<Record<string, SecurityScheme>> {
    const found = await deps.schemesOf(tenantId, apiRef);
    if (!found) throw new AuthError(AuthErrorCode.badInput, `API ${apiRef} is not known to tenant ${tenantId}`);
    return found;
  }

  async function need(
    tenantId: string,
    name: string,
    kinds: Credential['kind'][],
    scheme: string,
  ): Promise<Credential> {
    const c = await store.get(tenantId, name);
    if (!c)
      throw new AuthError(
        AuthErrorCode.missingCredential,
        `tenant ${tenantId} has no credential ${name} (scheme ${scheme})`,
      );
    if (!kinds.includes(c.kind))
      throw new AuthError(
        AuthErrorCode.wrongKind,
        `credential ${name} is ${c.kind}; scheme ${scheme} needs ${kinds.join(' or ')}`,
      );
    return c;
  }

  async function tell(event: AuthEvent): Promise<void> {
    try {
      await deps.onEvent?.(event);
    } catch {
      // Telling the owner must not turn a request's outcome into another failure.
    }
  }

  /** A valid access token for an OAuth scheme: cached, else refreshed or obtained, one flight at a time. */
  async function oauthToken(
    tenantId: string,
    name: string,
    schemeName: string,
    scheme: Extract<SecurityScheme, { type: 'oauth2' }>,
    scopes: string[],
  ): Promise<OAuthToken> {
    const flows = scheme.flows;
    const useClientCredentials = !flows.authorizationCode && !!flows.clientCredentials;
    const cacheName = tokenName(name, useClientCredentials ? scopes : []);
    const cached = freshToken(await store.get(tenantId, cacheName));
    if (cached) return cached;
    const flightKey = `${tenantId}\0${cacheName}`;
    const running = inFlight.get(flightKey);
    if (running) return running;
    const flight = (async () => {
      const client = (await need(tenantId, name, ['oauth2-client'], schemeName)) as Extract<
        Credential,
        { kind: 'oauth2-client' }
      >;
      // One renewal per credential across processes too (the gateway, cloud workers): providers rotate
      // refresh tokens, and a second refresh with the old one fails and can revoke the grant. The store's
      // lock (PostgreSQL's) makes the others wait, then read what the first one stored.
      // The owner is told once the lock is let go: a listener that writes to the same store must not wait on it.
      const told: AuthEvent[] = [];
      const renew = async (store: CredentialStore): Promise<OAuthToken> => {
        const tell = async (event: AuthEvent) => void told.push(event);
        // Read again inside the lock: another process may have renewed it while this one waited.
        const current = await store.get(tenantId, cacheName);
        const stillFresh = freshToken(current);
        if (stillFresh) return stillFresh;
        let token: OAuthToken;
        let grant: 'client_credentials' | 'refresh_token';
        if (current?.kind === 'oauth2-token' && current.refreshToken) {
          const tokenUrl =
            client.tokenUrl ??
            flows.authorizationCode?.refreshUrl ??
            flows.authorizationCode?.tokenUrl ??
            flows.clientCredentials?.tokenUrl;
          if (!tokenUrl)
            throw new AuthError(
              AuthErrorCode.badInput,
              `scheme ${schemeName} of credential ${name} declares no token URL`,
            );
          grant = 'refresh_token';
          try {
            token = await requestToken({
              tokenUrl,
              client,
              grant: { grant_type: 'refresh_token', refresh_token: current.refreshToken },
              now: now(),
              fetch: doFetch,
              previousRefreshToken: current.refreshToken,
            });
          } catch (err) {
            if (err instanceof AuthError && err.code === AuthErrorCode.reauthorizationRequired) {
              const message = `the refresh of ${name} was refused (${err.message}); authorize again`;
              await store.recordFailure(tenantId, name, message);
              await store.recordFailure(tenantId, cacheName, message);
              await tell({ type: 'oauth.refresh-failed', tenantId, credential: name, code: err.code, message });
              throw new AuthError(
                AuthErrorCode.reauthorizationRequired,
                `credential ${name} of tenant ${tenantId}: ${message}`,
              );
            }
            throw err;
          }
        } else if (flows.clientCredentials) {
          grant = 'client_credentials';
          const grantBody: Record<string, string> = { grant_type: 'client_credentials' };
          if (scopes.length > 0) grantBody.scope = scopes.join(' ');
          try {
            token = await requestToken({
              tokenUrl: client.tokenUrl ?? flows.clientCredentials.tokenUrl,
              client,
              grant: grantBody,
              now: now(),
              fetch: doFetch,
            });
          } catch (err) {
            if (err instanceof AuthError && err.code === AuthErrorCode.reauthorizationRequired) {
              const message = `the token request of ${name} was refused (${err.message}); check the client`;
              await store.recordFailure(tenantId, name, message);
              await tell({ type: 'oauth.refresh-failed', tenantId, credential: name, code: err.code, message });
            }
            throw err;
          }
        } else {
          const message = current
            ? `the access token of ${name} expired and there is no refresh token; authorize again`
            : `${name} has not been authorized yet; start its authorization`;
          if (current) {
            await store.recordFailure(tenantId, name, message);
            await tell({
              type: 'oauth.refresh-failed',
              tenantId,
              credential: name,
              code: AuthErrorCode.reauthorizationRequired,
              message,
            });
          }
          throw new AuthError(
            current ? AuthErrorCode.reauthorizationRequired : AuthErrorCode.missingCredential,
            `credential ${name} of tenant ${tenantId}: ${message}`,
          );
        }
        await store.put(tenantId, cacheName, token);
        await tell({ type: 'oauth.token-issued', tenantId, credential: name, grant });
        return token;
      };
      try {
        return await (deps.store.exclusive ? deps.store.exclusive(tenantId, cacheName, renew) : renew(deps.store));
      } finally {
        for (const event of told) await tell(event);
      }
    })();
    inFlight.set(flightKey, flight);
    try {
      return await flight;
    } finally {
      inFlight.delete(flightKey);
    }
  }

  async function applyScheme(
    out: OutgoingCredentials,
    request: CredentialRequest,
    schemeName: string,
    declared: SecurityScheme,
    scopes: string[],
  ): Promise<void> {
    await attach(out, request, schemeName, await effectiveScheme(schemeName, declared), scopes);
    // What the owner sees as "last used" (at most one write a minute per credential).
    await store.markUsed(request.tenantId, credentialName(request.apiRef, schemeName));
  }

  async function attach(
    out: OutgoingCredentials,
    request: CredentialRequest,
    schemeName: string,
    scheme: SecurityScheme,
    scopes: string[],
  ): Promise<void> {
    const { tenantId } = request;
    const name = credentialName(request.apiRef, schemeName);
    switch (scheme.type) {
      case 'apiKey': {
        const c = await need(tenantId, name, ['apiKey', 'bearer'], schemeName);
        const value = c.kind === 'apiKey' ? c.value : (c as Extract<Credential, { kind: 'bearer' }>).token;
        if (scheme.in === 'header') out.headers[scheme.name.toLowerCase()] = value;
        else if (scheme.in === 'query') out.query[scheme.name] = value;
        else out.cookies[scheme.name] = value;
        return;
      }
      case 'http': {
        const kind = scheme.scheme.toLowerCase();
        if (kind === 'basic') {
          requireSecureTransport(request.url, `HTTP Basic credentials (scheme ${schemeName})`);
          const c = (await need(tenantId, name, ['basic'], schemeName)) as Extract<Credential, { kind: 'basic' }>;
          out.headers.authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
          return;
        }
        if (kind === 'bearer') {
          const c = await need(tenantId, name, ['bearer', 'oauth2-token'], schemeName);
          out.headers.authorization = `Bearer ${c.kind === 'bearer' ? c.token : (c as OAuthToken).accessToken}`;
          return;
        }
        throw new AuthError(
          AuthErrorCode.unsupportedScheme,
          `scheme ${schemeName}: HTTP ${scheme.scheme} authentication is not supported`,
        );
      }
      case 'oauth2': {
        if (!scheme.flows.clientCredentials && !scheme.flows.authorizationCode)
          throw new AuthError(
            AuthErrorCode.unsupportedScheme,
            `scheme ${schemeName}: only the client credentials and authorization code flows are supported`,
          );
        const token = await oauthToken(tenantId, name, schemeName, scheme, scopes);
        // RFC 6750: the type is case-insensitive; servers answering "bearer" mean Bearer.
        out.headers.authorization = `${token.tokenType.toLowerCase() === 'bearer' ? 'Bearer' : token.tokenType} ${token.accessToken}`;
        return;
      }
      case 'mutualTLS': {
        // A client certificate means nothing over plain HTTP: refused rather than silently absent.
        if (new URL(request.url).protocol !== 'https:')
          throw new AuthError(
            AuthErrorCode.insecureTransport,
            `scheme ${schemeName} (mutualTLS) needs an https URL, not ${new URL(request.url).protocol}`,
          );
        const c = (await need(tenantId, name, ['mtls'], schemeName)) as Extract<Credential, { kind: 'mtls' }>;
        out.clientCertificate = {
          cert: c.certificate,
          key: c.privateKey,
          ...(c.passphrase ? { passphrase: c.passphrase } : {}),
          ...(c.ca ? { ca: c.ca } : {}),
        };
        return;
      }
      case 'openIdConnect':
        // effectiveScheme made it oauth2 before here; kept for the exhaustive switch.
        throw new AuthError(AuthErrorCode.unsupportedScheme, `scheme ${schemeName}: discovery did not run`);
    }
  }

  async function credentialsFor(request: CredentialRequest): Promise<OutgoingCredentials> {
    if (request.requirements.length === 0) return empty();
    const declared = await schemes(request.tenantId, request.apiRef);
    const missing: string[] = [];
    for (const alternative of request.requirements) {
      const out = empty();
      try {
        for (const [schemeName, scopes] of Object.entries(alternative)) {
          const scheme = Object.hasOwn(declared, schemeName) ? declared[schemeName] : undefined;
          if (!scheme)
            throw new AuthError(
              AuthErrorCode.badInput,
              `API ${request.apiRef} requires scheme ${schemeName}, which it does not declare`,
            );
          await applyScheme(out, request, schemeName, scheme, scopes);
        }
        return out;
      } catch (err) {
        // Only a missing credential moves on to the next alternative; anything else is the answer.
        if (!(err instanceof AuthError && err.code === AuthErrorCode.missingCredential)) throw err;
        missing.push(err.message);
      }
    }
    throw new AuthError(
      AuthErrorCode.missingCredential,
      `no security alternative of ${request.apiRef} can be met for tenant ${request.tenantId}: ${missing.join('; ')}`,
    );
  }

  async function oauthScheme(tenantId: string, apiRef: string, schemeName: string) {
    const declared = (await schemes(tenantId, apiRef))[schemeName];
    const scheme = declared && (await effectiveScheme(schemeName, declared));
    if (scheme?.type !== 'oauth2' || !scheme.flows.authorizationCode)
      throw new AuthError(
        AuthErrorCode.badInput,
        `API ${apiRef} declares no OAuth 2.0 authorization code (or OpenID Connect) scheme ${schemeName}`,
      );
    return scheme.flows.authorizationCode;
  }

  return {
    credentialsFor,

    /**
     * Starts an authorization code flow with PKCE (S256): returns the URL to send the owner to. The
     * verifier waits in the store (sealed, one use, expiring) under the tenant and a random state.
     */
    async startAuthorization(input: {
      tenantId: string;
      apiRef: string;
      scheme: string;
      redirectUri: string;
      scopes?: string[];
      /** More authorization request parameters (`prompt=consent` for an OpenID provider's offline_access). */
      extraParameters?: Record<string, string>;
      /** Who started it (kept with the pending flow; told back by the callback). */
      startedBy?: string;
    }): Promise<{ authorizationUrl: string; state: string; expiresAt: Date; credential: string }> {
      const flow = await oauthScheme(input.tenantId, input.apiRef, input.scheme);
      const name = credentialName(input.apiRef, input.scheme);
      const client = (await need(input.tenantId, name, ['oauth2-client'], input.scheme)) as Extract<
        Credential,
        { kind: 'oauth2-client' }
      >;
      const { verifier, challenge } = pkcePair();
      const state = `${input.tenantId}_${randomState()}`;
      const expiresAt = new Date(now() + (deps.authorizationTtlMs ?? 600_000));
      const tokenUrl = client.tokenUrl ?? flow.tokenUrl;
      requireSecureTransport(tokenUrl, 'an OAuth client secret (token endpoint)');
      await store.put(
        input.tenantId,
        pendingName(state),
        {
          kind: 'oauth2-pending',
          credential: name,
          tokenUrl,
          redirectUri: input.redirectUri,
          codeVerifier: verifier,
          startedBy: input.startedBy,
        },
        { expiresAt },
      );
      const url = new URL(client.authorizationUrl ?? flow.authorizationUrl);
      // Extras first: the flow's own parameters (state, PKCE, client) are set after and cannot be overridden.
      for (const [k, v] of Object.entries(input.extraParameters ?? {})) url.searchParams.set(k, v);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('client_id', client.clientId);
      url.searchParams.set('redirect_uri', input.redirectUri);
      const scopes = input.scopes ?? Object.keys(flow.scopes);
      if (scopes.length > 0) url.searchParams.set('scope', scopes.join(' '));
      url.searchParams.set('state', state);
      url.searchParams.set('code_challenge', challenge);
      url.searchParams.set('code_challenge_method', 'S256');
      return { authorizationUrl: url.toString(), state, expiresAt, credential: name };
    },

    /**
     * The redirect's end: exchanges the code (with the PKCE verifier) and stores the tokens. A state
     * is used once and only by the tenant that started it.
     */
    async completeAuthorization(input: {
      tenantId: string;
      state: string;
      code: string;
    }): Promise<{ credential: string; expiresAt?: Date; scope?: string; startedBy?: string }> {
      if (!/^[A-Za-z0-9_-]{16,128}$/.test(input.state))
        throw new AuthError(
          AuthErrorCode.unknownAuthorization,
          'the authorization state is not one this platform made',
        );
      const pending = await store.take(input.tenantId, pendingName(input.state));
      if (pending?.kind !== 'oauth2-pending')
        throw new AuthError(
          AuthErrorCode.unknownAuthorization,
          `no authorization of tenant ${input.tenantId} is waiting for this state (expired, used, or another tenant's); start again`,
        );
      const client = (await need(input.tenantId, pending.credential, ['oauth2-client'], pending.credential)) as Extract<
        Credential,
        { kind: 'oauth2-client' }
      >;
      let token: OAuthToken;
      try {
        token = await requestToken({
          tokenUrl: pending.tokenUrl,
          client,
          grant: {
            grant_type: 'authorization_code',
            code: input.code,
            redirect_uri: pending.redirectUri,
            code_verifier: pending.codeVerifier,
          },
          now: now(),
          fetch: doFetch,
        });
      } catch (err) {
        // The owner waits for the result on the credential (the console reads it), not on the
        // provider's redirect: a refused exchange (a wrong client secret: invalid_client) is recorded there.
        if (err instanceof AuthError && err.code === AuthErrorCode.reauthorizationRequired)
          await store.recordFailure(
            input.tenantId,
            pending.credential,
            `the code exchange of ${pending.credential} was refused (${err.message}); check the client ID and secret, save them and connect again`,
          );
        throw err;
      }
      await store.put(input.tenantId, tokenName(pending.credential), token);
      await tell({
        type: 'oauth.token-issued',
        tenantId: input.tenantId,
        credential: pending.credential,
        grant: 'authorization_code',
      });
      return {
        credential: pending.credential,
        expiresAt: token.expiresAt !== undefined ? new Date(token.expiresAt) : undefined,
        scope: token.scope,
        startedBy: pending.startedBy,
      };
    },

    /**
     * The redirect came back with an error (the owner declined, the provider refused): the pending
     * flow is used up and the refusal recorded on the credential, for its owner.
     */
    async failAuthorization(input: {
      tenantId: string;
      state: string;
      error: string;
    }): Promise<{ credential: string } | undefined> {
      if (!/^[A-Za-z0-9_-]{16,128}$/.test(input.state)) return undefined;
      const pending = await store.take(input.tenantId, pendingName(input.state));
      if (pending?.kind !== 'oauth2-pending') return undefined;
      // The provider's error code only (RFC 6749 4.1.2.1: ASCII); never its description.
      const code = /^[\x20-\x7e]{1,64}$/.test(input.error) ? input.error : 'unknown_error';
      await store.recordFailure(
        input.tenantId,
        pending.credential,
        `the authorization was refused (${code}); start it again`,
      );
      return { credential: pending.credential };
    },
  };
}
export type Authenticator = ReturnType<typeof createAuthenticator>;

/** The URL with the credentials' query parameters added and the Cookie header to send (merged with `cookie`). */
export function withCredentials(
  url: string | URL,
  headers: Record<string, string>,
  credentials: OutgoingCredentials,
): { url: URL; headers: Record<string, string> } {
  const target = new URL(url);
  for (const [k, v] of Object.entries(credentials.query)) target.searchParams.set(k, v);
  const merged: Record<string, string> = { ...headers, ...credentials.headers };
  const cookies = Object.entries(credentials.cookies).map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
  if (cookies.length > 0) merged.cookie = [merged.cookie, ...cookies].filter(Boolean).join('; ');
  return { url: target, headers: merged };
}

/**
 * The sandbox's `CredentialProvider` (sdk-factory/src/sandbox, i12-sandbox: asked per scheme name,
 * `{ headers?, query? }` or undefined when the tenant has none) over this authenticator, bound to one
 * tenant, API and operation. Declared structurally so neither part imports the other's folder.
 * Cookies become a `cookie` header; a missing credential is undefined (the sandbox names the
 * scheme); every other failure (refused refresh, insecure transport) is thrown as it is.
 */
export function schemeCredentialProvider(
  authenticator: Pick<Authenticator, 'credentialsFor'>,
  bound: { tenantId: string; apiRef: string; requirement?: Record<string, string[]> },
): {
  credentialsFor(
    schemeName: string,
    request: { method: string; url: URL },
  ): Promise<
    | {
        headers?: Record<string, string>;
        query?: Record<string, string>;
        clientCertificate?: OutgoingCredentials['clientCertificate'];
      }
    | undefined
  >;
} {
  return {
    async credentialsFor(schemeName, request) {
      const scopes =
        bound.requirement && Object.hasOwn(bound.requirement, schemeName) ? bound.requirement[schemeName]! : [];
      try {
        const out = await authenticator.credentialsFor({
          tenantId: bound.tenantId,
          apiRef: bound.apiRef,
          requirements: [{ [schemeName]: scopes }],
          url: request.url,
        });
        const { headers } = withCredentials(request.url, {}, out);
        const certificate = out.clientCertificate ? { clientCertificate: out.clientCertificate } : {};
        return { headers, query: out.query, ...certificate };
      } catch (err) {
        if (err instanceof AuthError && err.code === AuthErrorCode.missingCredential) return undefined;
        throw err;
      }
    },
  };
}
