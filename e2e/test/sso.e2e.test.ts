import { authorizeInBrowser, startOidcProvider, type RunningProvider, webClient } from '@vansales/test-kit';
import { startPlatform, type Platform } from './support/harness';
import { startGatewayCluster, startPrivateRedis, type GatewayNode } from './support/gateway-cluster';

const REDIRECT = 'http://gateway.test/v1/sso/corp/callback';

/** The provider `corp` with one client: the real oidc-provider, and the gateway setting that names it. */
async function corpProvider(clientId: string, secret: string) {
  const provider = await startOidcProvider([webClient(clientId, secret, REDIRECT, { refresh: false })]);
  const env = {
    VSC_SSO_PROVIDERS: JSON.stringify([
      {
        name: 'corp',
        issuer: provider.issuer,
        clientId,
        clientSecret: secret,
        redirectUri: REDIRECT,
        allowedDomains: ['example.com'],
      },
    ]),
  };
  return { provider, env };
}

/** Single sign-on (issue 12 section 1) against the real oidc-provider package, run locally. */
describe('single sign-on through OpenID Connect (real provider, real services)', () => {
  const SECRET = 'sso-client-secret-0123456789abcdef';
  let provider: RunningProvider;
  let platform: Platform;
  const secrets: string[] = [SECRET];

  beforeAll(async () => {
    const corp = await corpProvider('gw-sso', SECRET);
    provider = corp.provider;
    platform = await startPlatform({
      gateway: {
        ...corp.env,
        // The start throttle is the cluster test's below; these cases start many sign-ins from one address.
        VSC_SSO_STARTS_PER_MINUTE: '1000',
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

  it("lets a single sign-on account join a tenant by invitation only; its later sign-ins are in that tenant's audit", async () => {
    const first = await callback(await authorize(await start(), 'gina@example.com'));
    expect(first.statusCode).toBe(201);
    const session = first.json<{ token: string; user: { id: string } }>();
    secrets.push(session.token);
    expect((await platform.api('POST', '/v1/tenants', { id: 'sso-join', name: 'SSO join' })).status).toBe(201);
    // The email-squatting protection: the account exists, so no admin adds it directly.
    const direct = await platform.api('POST', '/v1/tenants/sso-join/members', {
      email: 'gina@example.com',
      role: 'viewer',
    });
    expect(direct.status).toBe(409);
    const invited = await platform.api<{ token: string }>('POST', '/v1/tenants/sso-join/invitations', {
      email: 'gina@example.com',
      role: 'author',
    });
    expect(invited.status).toBe(201);
    secrets.push(invited.body.token);
    const accepted = await platform.api('POST', '/v1/invitations/accept', { token: invited.body.token }, session.token);
    expect(accepted.status).toBe(200);
    const me = await get('/v1/me', session.token);
    expect(me.json<{ memberships: unknown[] }>().memberships).toEqual([{ tenantId: 'sso-join', role: 'author' }]);

    const again = await callback(await authorize(await start(), 'gina@example.com'));
    expect(again.statusCode).toBe(201);
    secrets.push(again.json<{ token: string }>().token);
    const audit = await platform.api<{ events: { outcome: string; person: { target?: Record<string, string> } }[] }>(
      'GET',
      `/v1/tenants/sso-join/audit?operation=sign-in&principal=user:${session.user.id}`,
    );
    expect(audit.body.events.map((e) => [e.outcome, e.person.target?.method])).toEqual([['ok', 'sso:corp']]);
  });

  it("puts a refused single sign-on of an existing account in its tenants' audit (domain not allowed)", async () => {
    expect((await platform.api('POST', '/v1/tenants', { id: 'sso-refused', name: 'SSO refused' })).status).toBe(201);
    const password = `pw-${Date.now()}-local-only`;
    secrets.push(password);
    const added = await platform.api<{ userId: string }>('POST', '/v1/tenants/sso-refused/members', {
      email: 'henry@other.example',
      role: 'viewer',
      password,
    });
    expect(added.status).toBe(201);
    const res = await callback(await authorize(await start(), 'henry@other.example'));
    expect(res.statusCode).toBe(403);
    const audit = await platform.api<{
      events: { outcome: string; errorType?: string; person: { status: number; target?: Record<string, string> } }[];
    }>('GET', `/v1/tenants/sso-refused/audit?operation=sign-in&principal=user:${added.body.userId}`);
    expect(audit.body.events.map((e) => [e.outcome, e.errorType, e.person.status, e.person.target?.method])).toEqual([
      ['refused', 'sso-domain', 403, 'sso:corp'],
    ]);
  });

  it('no code, state, token or client secret reaches a log line; refusals are logged', () => {
    const logs = platform.logs.lines.join('\n');
    for (const secret of secrets) expect(logs).not.toContain(secret);
    expect(logs).toMatch(/single sign-on refused/);
  });
});

/**
 * Two gateway processes over one PostgreSQL metadata store (and one Redis): a sign-in started on one
 * node is finished on the other, once; the per-address start throttle counts across the nodes.
 */
describe('single sign-on across two gateway nodes (real provider, real services)', () => {
  const SECRET = 'sso-cluster-secret-0123456789abcdef';
  let provider: RunningProvider;
  let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
  let cluster: Awaited<ReturnType<typeof startGatewayCluster>>;
  let node1: GatewayNode, node2: GatewayNode;
  const secrets: string[] = [SECRET];

  beforeAll(async () => {
    const corp = await corpProvider('gw-cluster', SECRET);
    provider = corp.provider;
    // Redis of the test's own: the throttle's counts start at zero whatever ran before.
    redis = await startPrivateRedis();
    cluster = await startGatewayCluster({
      nodes: 2,
      redisUrl: redis.url,
      env: {
        ...corp.env,
        VSC_SSO_STARTS_PER_MINUTE: '4',
      },
    });
    [node1, node2] = cluster.nodes as [GatewayNode, GatewayNode];
  }, 180_000);
  afterAll(async () => {
    await cluster?.close();
    await redis?.close();
    await provider?.stop();
  });

  const start = (node: GatewayNode) => fetch(`${node.url}/v1/sso/corp/start`, { redirect: 'manual' });

  it('finishes on node 2 a sign-in started on node 1, and refuses its replay on node 1', async () => {
    const started = await start(node1);
    expect(started.status).toBe(302);
    const back = await authorizeInBrowser(started.headers.get('location')!, REDIRECT, 'frank@example.com');
    secrets.push(back.searchParams.get('code')!, back.searchParams.get('state')!);
    const done = await fetch(`${node2.url}/v1/sso/corp/callback${back.search}`);
    expect(done.status).toBe(201);
    const body = (await done.json()) as { token: string; user: { email: string } };
    secrets.push(body.token);
    expect(body.user.email).toBe('frank@example.com');
    const me = await fetch(`${node1.url}/v1/me`, { headers: { authorization: `Bearer ${body.token}` } });
    expect(me.status).toBe(200);
    const replay = await fetch(`${node1.url}/v1/sso/corp/callback${back.search}`);
    expect(replay.status).toBe(401);
  });

  it('throttles starts per address across the nodes: 429 with Retry-After', async () => {
    // One start above; three more alternate between the nodes (neither alone reaches the limit of 4).
    for (const node of [node2, node1, node2]) expect((await start(node)).status).toBe(302);
    const refused = await start(node1);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /too many single sign-ons started from this address; try again in \d+ s/,
    );
  });

  it("no code, state, token or client secret reaches a node's log", () => {
    const logs = [...node1.logs, ...node2.logs].join('');
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });
});
