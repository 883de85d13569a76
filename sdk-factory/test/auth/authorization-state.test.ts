import {
  AuthErrorCode,
  createAuthenticator,
  isPlatformCredentialName,
  OwnerCredential,
  tenantOfState,
} from '@vansales/sdk-factory/auth';
import { credentialStoreFixture } from './support/store';

// What the REST routes rely on: the tenant read back from a state, the platform's own names kept
// from owners, openIdConnect discovery held to HTTPS, and "last used" written at most once a minute.
describe('authorization state, reserved names, openIdConnect discovery, last use', () => {
  let f: Awaited<ReturnType<typeof credentialStoreFixture>>;
  let clock = Date.now();
  beforeAll(async () => {
    f = await credentialStoreFixture(['acme', 'globex'], () => clock);
  });
  afterAll(async () => {
    await f.db.destroy();
  });

  it('a started flow carries its tenant in the state, found only under that tenant', async () => {
    await f.store.put('acme', 'crm.user', { kind: 'oauth2-client', clientId: 'web' });
    const auth = createAuthenticator({
      store: f.store,
      now: () => clock,
      schemesOf: async () => ({
        user: {
          type: 'oauth2',
          flows: {
            authorizationCode: {
              authorizationUrl: 'https://id.example.com/authorize',
              tokenUrl: 'https://id.example.com/token',
              scopes: {},
            },
          },
        },
      }),
    });
    const started = await auth.startAuthorization({
      tenantId: 'acme',
      apiRef: 'crm',
      scheme: 'user',
      redirectUri: 'https://vsc.example.com/v1/oauth/callback',
      startedBy: 'admin:ann',
    });
    expect(tenantOfState(started.state)).toBe('acme');
    expect(started.credential).toBe('crm.user');
    // Another tenant with the same random part finds nothing; the refusal uses the right state up.
    const forged = started.state.replace(/^acme_/, 'globex_');
    expect(await auth.failAuthorization({ tenantId: 'globex', state: forged, error: 'access_denied' })).toBeUndefined();
    expect(await auth.failAuthorization({ tenantId: 'acme', state: started.state, error: 'access_denied' })).toEqual({
      credential: 'crm.user',
    });
    await expect(
      auth.completeAuthorization({ tenantId: 'acme', state: started.state, code: 'x' }),
    ).rejects.toMatchObject({ code: AuthErrorCode.unknownAuthorization });
    const listed = (await f.store.list('acme')).find((s) => s.name === 'crm.user');
    expect(listed?.failure?.message).toMatch(/access_denied/);
  });

  it('tells states and names apart', () => {
    expect(tenantOfState('acme')).toBeUndefined();
    expect(tenantOfState(`Acme_${'a'.repeat(32)}`)).toBeUndefined();
    expect(tenantOfState(`my-co_${'a'.repeat(32)}`)).toBe('my-co');
    for (const name of ['crm.user.token', 'crm.svc.token.0123456789abcdef', 'oauth-pending.abc'])
      expect(isPlatformCredentialName(name)).toBe(true);
    for (const name of ['crm.user', 'token', 'crm.tokens', 'crm.token.x'])
      expect(isPlatformCredentialName(name)).toBe(false);
    expect(OwnerCredential.safeParse({ kind: 'oauth2-token', accessToken: 'x' }).success).toBe(false);
    expect(OwnerCredential.safeParse({ kind: 'bearer', token: 'x' }).success).toBe(true);
  });

  it('reads an openIdConnect discovery document over HTTPS only', async () => {
    await f.store.put('acme', 'crm.oidc', { kind: 'oauth2-client', clientId: 'web' });
    const asked: string[] = [];
    const auth = createAuthenticator({
      store: f.store,
      fetch: async (input) => {
        asked.push(String(input));
        return new Response(
          JSON.stringify({
            authorization_endpoint: 'http://id.example.com/a',
            token_endpoint: 'https://id.example.com/t',
          }),
        );
      },
      schemesOf: async () => ({
        plain: { type: 'openIdConnect', openIdConnectUrl: 'http://id.example.com/.well-known/openid-configuration' },
        oidc: { type: 'openIdConnect', openIdConnectUrl: 'https://id.example.com/.well-known/openid-configuration' },
      }),
    });
    const start = (scheme: string) =>
      auth.startAuthorization({ tenantId: 'acme', apiRef: 'crm', scheme, redirectUri: 'https://vsc.example.com/cb' });
    await expect(start('plain')).rejects.toMatchObject({ code: AuthErrorCode.insecureTransport });
    expect(asked).toEqual([]);
    // The document's own endpoints are held to the same rule.
    await expect(start('oidc')).rejects.toMatchObject({ code: AuthErrorCode.insecureTransport });
  });

  it('notes the last use at most once a minute', async () => {
    await f.store.put('acme', 'hook', { kind: 'bearer', token: 't' });
    expect((await f.store.list('acme', 'hook'))[0]?.lastUsedAt).toBeUndefined();
    await f.store.markUsed('acme', 'hook');
    const first = (await f.store.list('acme', 'hook'))[0]?.lastUsedAt;
    expect(first).toBeDefined();
    clock += 30_000;
    await f.store.markUsed('acme', 'hook');
    expect((await f.store.list('acme', 'hook'))[0]?.lastUsedAt).toEqual(first);
    clock += 31_000;
    await f.store.markUsed('acme', 'hook');
    expect((await f.store.list('acme', 'hook'))[0]?.lastUsedAt?.getTime()).toBe(clock);
  });
});
