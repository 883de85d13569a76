import type { SecurityScheme } from '@vansales/sdk-factory/manifest';
import { AuthError, AuthErrorCode, createAuthenticator, type AuthEvent } from '@vansales/sdk-factory/auth';
import {
  authorizeInBrowser,
  startOidcProvider,
  type RunningProvider,
  webClient,
  serviceClient,
  authorizationCodeScheme,
} from '@vansales/test-kit';
import { credentialStoreFixture } from './support/store';

// Against a real OpenID Connect provider (oidc-provider, its own process): client credentials,
// authorization code with PKCE, refresh before expiry on our injected clock, concurrent refreshes
// collapsed, a revoked refresh token told to the owner. No sleeps: time moves on our clock only.
const CC_SECRET = 'cc-secret-5b1e0d7c-never-logged';
const WEB_SECRET = 'web-secret-9a2f44e1-never-logged';
const REDIRECT = 'http://127.0.0.1:9/callback';

describe('OAuth 2.0 against oidc-provider', () => {
  let provider: RunningProvider;
  let f: Awaited<ReturnType<typeof credentialStoreFixture>>;
  let clock = Date.now();
  const grants: string[] = [];
  const events: AuthEvent[] = [];
  let auth: ReturnType<typeof createAuthenticator>;

  /** Real fetch, counting the grants the token endpoint answered (a send lost on a stale socket is not one). */
  const countingFetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (init?.body instanceof URLSearchParams) grants.push(init.body.get('grant_type') ?? '?');
    return res;
  };
  const introspect = async (token: string) => {
    const res = await fetch(provider.endpoints.introspection, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`web:${WEB_SECRET}`).toString('base64')}` },
      body: new URLSearchParams({ token }),
    });
    return (await res.json()) as { active: boolean; client_id?: string; scope?: string; sub?: string };
  };
  const bearer = (headers: Record<string, string>) => headers.authorization!.replace(/^Bearer /, '');

  beforeAll(async () => {
    provider = await startOidcProvider([
      serviceClient('cc', CC_SECRET, 'read write'),
      webClient('web', WEB_SECRET, REDIRECT),
    ]);
    f = await credentialStoreFixture(['acme', 'globex'], () => clock);
    const schemes: Record<string, SecurityScheme> = {
      service: {
        type: 'oauth2',
        flows: { clientCredentials: { tokenUrl: provider.endpoints.token, scopes: { read: 'read', write: 'write' } } },
      },
      user: authorizationCodeScheme(provider, ['openid', 'offline_access', 'read']),
    };
    auth = createAuthenticator({
      store: f.store,
      schemesOf: async (_tenant, apiRef) => (apiRef === 'crm' ? schemes : undefined),
      now: () => clock,
      refreshSkewMs: 60_000,
      fetch: countingFetch,
      onEvent: (e) => void events.push(e),
    });
  }, 120_000);
  afterAll(async () => {
    await provider?.stop();
    await f?.db.destroy();
  });

  const request = (tenantId: string, scheme: string, scopes: string[] = []) => ({
    tenantId,
    apiRef: 'crm',
    requirements: [{ [scheme]: scopes }],
    url: 'https://api.example.test/v1/things',
  });

  it('gets a client-credentials token once, caches it sealed, and renews it before it expires', async () => {
    await f.store.put('acme', 'crm.service', { kind: 'oauth2-client', clientId: 'cc', clientSecret: CC_SECRET });
    grants.length = 0;
    const first = await auth.credentialsFor(request('acme', 'service', ['read']));
    const token = bearer(first.headers);
    expect(await introspect(token)).toMatchObject({ active: true, client_id: 'cc', scope: 'read' });
    expect(await auth.credentialsFor(request('acme', 'service', ['read']))).toEqual(first);
    expect(grants).toEqual(['client_credentials']);
    // The cached token is in the store, sealed: the table never holds it in clear.
    const rows = await f.db
      .selectFrom('credentials')
      .select(['name', 'sealed'])
      .where('tenant_id', '=', 'acme')
      .execute();
    expect(rows.map((r) => r.name)).toEqual(
      expect.arrayContaining(['crm.service', expect.stringMatching(/^crm\.service\.token\./)]),
    );
    expect(rows.some((r) => Buffer.from(r.sealed).includes(Buffer.from(token)))).toBe(false);
    // An hour later on our clock (the provider's TTL is an hour): inside the skew, so a new token.
    clock += 3600_000 - 30_000;
    const renewed = bearer((await auth.credentialsFor(request('acme', 'service', ['read']))).headers);
    expect(renewed).not.toBe(token);
    expect(grants).toEqual(['client_credentials', 'client_credentials']);
    expect(await introspect(renewed)).toMatchObject({ active: true });
    // Another tenant has no client: it never gets acme's cached token.
    await expect(auth.credentialsFor(request('globex', 'service', ['read']))).rejects.toMatchObject({
      code: AuthErrorCode.missingCredential,
    });
  });

  it('tells the owner when the token endpoint refuses the client, without the secret', async () => {
    await f.store.put('acme', 'crm.service', {
      kind: 'oauth2-client',
      clientId: 'cc',
      clientSecret: 'wrong-secret-xyz',
    });
    const err = (await auth
      .credentialsFor(request('acme', 'service', ['write']))
      .catch((e: unknown) => e)) as AuthError;
    expect(err).toBeInstanceOf(AuthError);
    expect(err.code).toBe(AuthErrorCode.reauthorizationRequired);
    expect(err.message).toMatch(/invalid_client/);
    expect(err.message).not.toContain('wrong-secret-xyz');
    const listed = await f.store.list('acme', 'crm.service');
    expect(listed.find((c) => c.name === 'crm.service')?.failure?.message).toMatch(/invalid_client/);
    expect(events.at(-1)).toMatchObject({ type: 'oauth.refresh-failed', tenantId: 'acme', credential: 'crm.service' });
    expect(JSON.stringify(events)).not.toContain('wrong-secret-xyz');
  });

  it('runs the authorization code flow with PKCE, refreshes once for concurrent callers, and reports a revoked refresh token', async () => {
    await f.store.put('acme', 'crm.user', { kind: 'oauth2-client', clientId: 'web', clientSecret: WEB_SECRET });
    const started = await auth.startAuthorization({
      tenantId: 'acme',
      apiRef: 'crm',
      scheme: 'user',
      redirectUri: REDIRECT,
      extraParameters: { prompt: 'consent' },
    });
    const startUrl = new URL(started.authorizationUrl);
    expect(startUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(startUrl.toString()).not.toContain(WEB_SECRET);
    const callback = await authorizeInBrowser(started.authorizationUrl, REDIRECT, 'alice');
    expect(callback.searchParams.get('state')).toBe(started.state);
    const code = callback.searchParams.get('code')!;
    expect(code).toBeTruthy();

    // Another tenant cannot complete acme's authorization, and trying does not use it up.
    await expect(auth.completeAuthorization({ tenantId: 'globex', state: started.state, code })).rejects.toMatchObject({
      code: AuthErrorCode.unknownAuthorization,
    });
    grants.length = 0;
    const done = await auth.completeAuthorization({ tenantId: 'acme', state: started.state, code });
    expect(done.credential).toBe('crm.user');
    expect(grants).toEqual(['authorization_code']);
    await expect(auth.completeAuthorization({ tenantId: 'acme', state: started.state, code })).rejects.toMatchObject({
      code: AuthErrorCode.unknownAuthorization,
    });
    const stored = await f.store.get('acme', 'crm.user.token');
    expect(stored).toMatchObject({ kind: 'oauth2-token', refreshToken: expect.any(String) });

    const firstToken = bearer((await auth.credentialsFor(request('acme', 'user'))).headers);
    expect(await introspect(firstToken)).toMatchObject({ active: true, sub: 'alice' });

    // Past expiry on our clock: five callers at once, one refresh.
    clock = done.expiresAt!.getTime() - 10_000;
    grants.length = 0;
    const all = await Promise.all(Array.from({ length: 5 }, () => auth.credentialsFor(request('acme', 'user'))));
    expect(grants).toEqual(['refresh_token']);
    const refreshed = new Set(all.map((c) => bearer(c.headers)));
    expect(refreshed.size).toBe(1);
    const [newToken] = [...refreshed];
    expect(newToken).not.toBe(firstToken);
    expect(await introspect(newToken!)).toMatchObject({ active: true, sub: 'alice' });

    // The owner revokes the grant at the provider: the next refresh is refused, and the owner is told.
    const current = await f.store.get('acme', 'crm.user.token');
    if (current?.kind !== 'oauth2-token' || !current.refreshToken) throw new Error('no refresh token stored');
    const revoked = await fetch(provider.endpoints.revocation, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`web:${WEB_SECRET}`).toString('base64')}` },
      body: new URLSearchParams({ token: current.refreshToken, token_type_hint: 'refresh_token' }),
    });
    expect(revoked.status).toBe(200);
    clock = (current.expiresAt ?? clock) + 1000;
    events.length = 0;
    const err = (await auth.credentialsFor(request('acme', 'user')).catch((e: unknown) => e)) as AuthError;
    expect(err).toBeInstanceOf(AuthError);
    expect(err.code).toBe(AuthErrorCode.reauthorizationRequired);
    expect(err.message).toMatch(/invalid_grant/);
    expect(err.message).not.toContain(current.refreshToken);
    expect(events).toEqual([
      expect.objectContaining({ type: 'oauth.refresh-failed', tenantId: 'acme', credential: 'crm.user' }),
    ]);
    const status = (await f.store.list('acme', 'crm.user')).find((c) => c.name === 'crm.user');
    expect(status?.failure?.message).toMatch(/authorize again/);
  });

  it('records a code exchange refused for a wrong client secret on the credential, for its owner', async () => {
    const wrong = 'web-secret-wrong-never-logged';
    await f.store.put('acme', 'crm.user', { kind: 'oauth2-client', clientId: 'web', clientSecret: wrong });
    const started = await auth.startAuthorization({
      tenantId: 'acme',
      apiRef: 'crm',
      scheme: 'user',
      redirectUri: REDIRECT,
    });
    const code = (await authorizeInBrowser(started.authorizationUrl, REDIRECT, 'alice')).searchParams.get('code')!;
    const err = (await auth
      .completeAuthorization({ tenantId: 'acme', state: started.state, code })
      .catch((e: unknown) => e)) as AuthError;
    expect(err.code).toBe(AuthErrorCode.reauthorizationRequired);
    expect(err.message).toMatch(/invalid_client/);
    const failure = (await f.store.list('acme', 'crm.user')).find((c) => c.name === 'crm.user')?.failure?.message;
    expect(failure).toMatch(
      /^the code exchange of crm\.user was refused \(.*invalid_client\); check the client ID and secret/,
    );
    expect(failure).not.toContain(wrong);
  });

  it('refuses an authorization whose time ran out', async () => {
    const started = await auth.startAuthorization({
      tenantId: 'acme',
      apiRef: 'crm',
      scheme: 'user',
      redirectUri: REDIRECT,
    });
    clock += 11 * 60_000;
    await expect(
      auth.completeAuthorization({ tenantId: 'acme', state: started.state, code: 'x' }),
    ).rejects.toMatchObject({
      code: AuthErrorCode.unknownAuthorization,
    });
  });
});
