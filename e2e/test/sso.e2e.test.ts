import { authorizeInBrowser, startOidcProvider, type RunningProvider } from '@vansales/test-kit';
import { startPlatform, type Platform } from './support/harness';

/** Single sign-on (issue 12 section 1) against the real oidc-provider package, run locally. */
describe('single sign-on through OpenID Connect (real provider, real services)', () => {
  const REDIRECT = 'http://gateway.test/v1/sso/corp/callback';
  const SECRET = 'sso-client-secret-0123456789abcdef';
  let provider: RunningProvider;
  let platform: Platform;
  const secrets: string[] = [SECRET];

  beforeAll(async () => {
    provider = await startOidcProvider([
      {
        client_id: 'gw-sso',
        client_secret: SECRET,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [REDIRECT],
      },
    ]);
    platform = await startPlatform({
      gateway: {
        VSC_SSO_PROVIDERS: JSON.stringify([
          {
            name: 'corp',
            issuer: provider.issuer,
            clientId: 'gw-sso',
            clientSecret: SECRET,
            redirectUri: REDIRECT,
            allowedDomains: ['example.com'],
          },
        ]),
      },
    });
  }, 120_000);
  afterAll(async () => {
    await platform?.close();
    await provider?.stop();
  });

  const get = (url: string, token?: string) =>
    platform.gateway.app.inject({
      method: 'GET',
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  /** The provider's authorization URL the start route redirects to. */
  const start = async () => {
    const res = await get('/v1/sso/corp/start');
    expect(res.statusCode).toBe(302);
    return new URL(res.headers.location as string);
  };
  /** Through the provider's login and consent as `login`; the callback's query, remembered as secret. */
  const authorize = async (url: URL, login: string) => {
    const back = await authorizeInBrowser(url.toString(), REDIRECT, login);
    secrets.push(back.searchParams.get('code')!, back.searchParams.get('state')!);
    return back;
  };
  const callback = (back: URL) => get(`/v1/sso/corp/callback${back.search}`);

  it('lists the providers by name to anyone, and nothing else of their configuration', async () => {
    const res = await get('/v1/sso/providers');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ providers: [{ name: 'corp' }] });
    expect(res.body).not.toContain(SECRET);
    expect(res.body).not.toContain(provider.issuer);
  });

  it('signs a person in with code + PKCE S256; the account is created once, then linked by email', async () => {
    const url = await start();
    expect(url.origin + url.pathname).toBe(provider.endpoints.authorization);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('nonce')).toMatch(/^[\w-]{43}$/);
    const back = await authorize(url, 'alice@example.com');
    const res = await callback(back);
    expect(res.statusCode).toBe(201);
    const body = res.json<{ token: string; user: { id: string; email: string } }>();
    secrets.push(body.token);
    expect(body.user.email).toBe('alice@example.com');
    const me = await get('/v1/me', body.token);
    expect(me.statusCode).toBe(200);
    expect(me.json<{ user: { id: string } }>().user.id).toBe(body.user.id);

    const again = await callback(await authorize(await start(), 'alice@example.com'));
    expect(again.statusCode).toBe(201);
    secrets.push(again.json<{ token: string }>().token);
    expect(again.json<{ user: { id: string } }>().user.id).toBe(body.user.id);
  });

  it('refuses a replayed state', async () => {
    const back = await authorize(await start(), 'bob@example.com');
    const first = await callback(back);
    expect(first.statusCode).toBe(201);
    secrets.push(first.json<{ token: string }>().token);
    const replay = await callback(back);
    expect(replay.statusCode).toBe(401);
    expect(replay.json<{ error: { message: string } }>().error.message).toMatch(/unknown, used already or expired/);
  });

  it('refuses a tampered state, and the real one is still good afterwards only once', async () => {
    const back = await authorize(await start(), 'carol@example.com');
    const tampered = new URL(back);
    const state = back.searchParams.get('state')!;
    tampered.searchParams.set('state', `${state.slice(0, -2)}${state.endsWith('AA') ? 'BB' : 'AA'}`);
    const res = await callback(tampered);
    expect(res.statusCode).toBe(401);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(/start it again/);
    const real = await callback(back);
    expect(real.statusCode).toBe(201);
    secrets.push(real.json<{ token: string }>().token);
  });

  it('refuses an ID token issued for another nonce', async () => {
    const url = await start();
    url.searchParams.set('nonce', 'a-nonce-the-gateway-never-issued');
    const res = await callback(await authorize(url, 'dave@example.com'));
    expect(res.statusCode).toBe(401);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(/not issued for this sign-in \(nonce\)/);
  });

  it('refuses a code issued to another PKCE challenge', async () => {
    const url = await start();
    url.searchParams.set('code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    const res = await callback(await authorize(url, 'erin@example.com'));
    expect(res.statusCode).toBe(401);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(/did not exchange the code/);
  });

  it('refuses an address outside the allowed domains, and creates no account', async () => {
    const res = await callback(await authorize(await start(), 'mallory@evil.example'));
    expect(res.statusCode).toBe(403);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(/domain evil\.example may not sign in/);
    // No account: adding the address to a tenant without an initial password finds nobody.
    expect((await platform.api('POST', '/v1/tenants', { id: 'sso-check', name: 'SSO check' })).status).toBe(201);
    const add = await platform.api<{ error: { message: string } }>('POST', '/v1/tenants/sso-check/members', {
      email: 'mallory@evil.example',
      role: 'viewer',
    });
    expect(add.status).toBe(404);
    expect(add.body.error.message).toMatch(/no account with the address/);
  });

  it('answers 404 for an unknown provider, 400 for a callback without state; mode=json gives the URL', async () => {
    const res = await get('/v1/sso/nobody/start');
    expect(res.statusCode).toBe(404);
    const noState = await get('/v1/sso/corp/callback?code=abc');
    expect(noState.statusCode).toBe(400);
    expect(noState.json<{ error: { message: string } }>().error.message).toMatch(/start the sign-in at/);
    const json = await get('/v1/sso/corp/start?mode=json');
    expect(json.statusCode).toBe(200);
    expect(json.json<{ authorizationUrl: string }>().authorizationUrl).toContain(provider.endpoints.authorization);
  });

  it('no code, state, token or client secret reaches a log line; refusals are logged', () => {
    const logs = platform.logs.lines.join('\n');
    for (const secret of secrets) expect(logs).not.toContain(secret);
    expect(logs).toMatch(/single sign-on refused/);
  });
});
