import type { SecurityScheme } from '@vansales/sdk-factory/manifest';
import {
  AuthErrorCode,
  createAuthenticator,
  createMetadataCredentialStore,
  type CredentialStore,
} from '@vansales/sdk-factory/auth';
import { createCredentialRepository, openMetadataDb, type MetadataDb } from '@vansales/metadata';
import {
  authorizeInBrowser,
  startOidcProvider,
  throwawayPostgresDatabase,
  type RunningProvider,
  webClient,
  authorizationCodeScheme,
} from '@vansales/test-kit';
import { credentialStoreFixture } from './support/store';

// Two processes (a gateway and a cloud worker, or two cloud workers) renewing the same OAuth
// credential at once, as two authenticators over two connection pools to one real PostgreSQL,
// against a real oidc-provider: ONE refresh reaches the token endpoint (providers rotate refresh
// tokens; a second refresh with the old one fails and can revoke the grant), and both get its token.
const WEB_SECRET = 'web-secret-3c9d1f0a-never-logged';
const REDIRECT = 'http://127.0.0.1:9/callback';

describe('OAuth renewal across processes', () => {
  let provider: RunningProvider;
  let pg: Awaited<ReturnType<typeof throwawayPostgresDatabase>>;
  let f: Awaited<ReturnType<typeof credentialStoreFixture>>;
  let otherDb: MetadataDb;
  let clock = Date.now();
  /** grant_type of every request the token endpoint answered, with the process that sent it. */
  const grants: string[] = [];

  const schemes: Record<string, SecurityScheme> = {};
  const authenticator = (store: CredentialStore, process: string, before?: () => Promise<void>) =>
    createAuthenticator({
      store,
      schemesOf: async (_tenant, apiRef) => (apiRef === 'crm' ? schemes : undefined),
      now: () => clock,
      refreshSkewMs: 60_000,
      fetch: async (input, init) => {
        await before?.();
        const res = await fetch(input, init);
        if (init?.body instanceof URLSearchParams) grants.push(`${process}:${init.body.get('grant_type')}`);
        return res;
      },
    });
  const request = { tenantId: 'acme', apiRef: 'crm', requirements: [{ user: [] }], url: 'https://api.example.test/x' };
  const bearer = (c: { headers: Record<string, string> }) => c.headers.authorization!.replace(/^Bearer /, '');

  beforeAll(async () => {
    provider = await startOidcProvider([webClient('web', WEB_SECRET, REDIRECT)]);
    schemes.user = authorizationCodeScheme(provider, ['openid', 'offline_access']);
    pg = await throwawayPostgresDatabase('vsc_oauthx');
    f = await credentialStoreFixture(['acme'], () => clock, { kind: 'postgres', url: pg.url });
    otherDb = await openMetadataDb({ kind: 'postgres', url: pg.url });
  }, 120_000);
  afterAll(async () => {
    await provider?.stop();
    await otherDb?.destroy();
    await f?.db.destroy();
    await pg?.drop();
  });

  it('sends one refresh for two processes at once; both use its token, and the grant stays good', async () => {
    // The second process: its own pool and store over the same rows and master keys.
    const otherStore = createMetadataCredentialStore({
      repository: createCredentialRepository(otherDb, () => clock),
      wrapper: f.wrapper,
    });
    // During the race, A's refresh is held at the token endpoint's door until B asks for the lock: they overlap for sure.
    let bWaiting = () => {};
    let gate = Promise.resolve();
    const watchedOther: CredentialStore = {
      ...otherStore,
      exclusive: (tenantId, name, fn) => {
        bWaiting();
        return otherStore.exclusive!(tenantId, name, fn);
      },
    };
    // Bounded, so a store without the lock (B never asks) fails on the count instead of hanging.
    const a = authenticator(f.store, 'a', () =>
      Promise.race([gate, new Promise<void>((resolve) => setTimeout(resolve, 5000).unref())]),
    );
    const b = authenticator(watchedOther, 'b');

    await f.store.put('acme', 'crm.user', { kind: 'oauth2-client', clientId: 'web', clientSecret: WEB_SECRET });
    const started = await a.startAuthorization({
      tenantId: 'acme',
      apiRef: 'crm',
      scheme: 'user',
      redirectUri: REDIRECT,
      extraParameters: { prompt: 'consent' },
    });
    const callback = await authorizeInBrowser(started.authorizationUrl, REDIRECT, 'alice');
    const done = await a.completeAuthorization({
      tenantId: 'acme',
      state: started.state,
      code: callback.searchParams.get('code')!,
    });
    const first = bearer(await b.credentialsFor(request));

    // Both processes find the token expiring, at once.
    clock = done.expiresAt!.getTime() - 10_000;
    gate = new Promise<void>((resolve) => (bWaiting = resolve));
    grants.length = 0;
    const [fromA, fromB] = await Promise.all([a.credentialsFor(request), b.credentialsFor(request)]);
    expect(grants.map((g) => g.split(':')[1])).toEqual(['refresh_token']);
    expect(bearer(fromA)).toBe(bearer(fromB));
    expect(bearer(fromA)).not.toBe(first);

    // The grant was not spoiled by a second refresh: the next renewal (by B this time) still works.
    const stored = await otherStore.get('acme', 'crm.user.token');
    if (stored?.kind !== 'oauth2-token') throw new Error('no token stored');
    clock = stored.expiresAt! - 10_000;
    grants.length = 0;
    const again = bearer(await b.credentialsFor(request));
    expect(grants).toEqual(['b:refresh_token']);
    expect(again).not.toBe(bearer(fromA));
  }, 120_000);

  it('gives up waiting for a process that holds the renewal too long, retryably, without a request', async () => {
    const patient = createMetadataCredentialStore({
      repository: createCredentialRepository(otherDb, () => clock),
      wrapper: f.wrapper,
      lockTimeoutMs: 300,
    });
    const stored = await f.store.get('acme', 'crm.user.token');
    if (stored?.kind !== 'oauth2-token') throw new Error('no token stored');
    clock = stored.expiresAt! - 10_000;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    // Another process inside its renewal of the same token row, for as long as this test says.
    const holder = f.store.exclusive!('acme', 'crm.user.token', async () => {
      locked();
      await held;
    });
    await isLocked;
    grants.length = 0;
    const err = await authenticator(patient, 'c')
      .credentialsFor(request)
      .catch((e: unknown) => e);
    release();
    await holder;
    expect(err).toMatchObject({ code: AuthErrorCode.tokenEndpointUnavailable, retryable: true });
    expect((err as Error).message).toMatch(/crm\.user\.token of tenant acme stayed locked by another process/);
    expect(grants).toEqual([]);
  }, 60_000);
});
