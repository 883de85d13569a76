import type { SecurityScheme } from '@vansales/sdk-factory/manifest';
import {
  AuthError,
  AuthErrorCode,
  createAuthenticator,
  isLoopback,
  namedCredentialHeaders,
  schemeCredentialProvider,
  withCredentials,
} from '@vansales/sdk-factory/auth';
import { credentialStoreFixture } from './support/store';

const KEY = 'key-3d9f1c-secret';
const PASSWORD = 'pw-81be7-secret';

const schemes: Record<string, SecurityScheme> = {
  headerKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
  queryKey: { type: 'apiKey', in: 'query', name: 'api_key' },
  cookieKey: { type: 'apiKey', in: 'cookie', name: 'session' },
  basic: { type: 'http', scheme: 'Basic' },
  jwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
  mtls: { type: 'mutualTLS' },
  digest: { type: 'http', scheme: 'Digest' },
};

describe('auth schemes applied from the credential store', () => {
  let f: Awaited<ReturnType<typeof credentialStoreFixture>>;
  let auth: ReturnType<typeof createAuthenticator>;
  beforeAll(async () => {
    f = await credentialStoreFixture(['acme', 'globex']);
    auth = createAuthenticator({
      store: f.store,
      schemesOf: async (_tenant, apiRef) => (apiRef === 'shop' ? schemes : undefined),
    });
    await f.store.put('acme', 'shop.headerKey', { kind: 'apiKey', value: KEY });
    await f.store.put('acme', 'shop.queryKey', { kind: 'apiKey', value: KEY });
    await f.store.put('acme', 'shop.cookieKey', { kind: 'apiKey', value: 'a b;c' });
    await f.store.put('acme', 'shop.basic', { kind: 'basic', username: 'ann', password: PASSWORD });
    await f.store.put('acme', 'shop.jwt', { kind: 'bearer', token: 'eyJhbGciOi.x.y' });
  });
  afterAll(async () => {
    await f.db.destroy();
  });
  const req = (
    requirements: Record<string, string[]>[],
    url = 'https://shop.example.test/v1/orders',
    tenantId = 'acme',
  ) => ({
    tenantId,
    apiRef: 'shop',
    requirements,
    url,
  });

  it('puts API keys in a header, the query or a cookie, as the scheme says', async () => {
    const out = await auth.credentialsFor(req([{ headerKey: [], queryKey: [], cookieKey: [] }]));
    expect(out).toEqual({ headers: { 'x-api-key': KEY }, query: { api_key: KEY }, cookies: { session: 'a b;c' } });
    const sent = withCredentials('https://shop.example.test/v1/orders?page=2', { cookie: 'a=1' }, out);
    expect(sent.url.searchParams.get('api_key')).toBe(KEY);
    expect(sent.url.searchParams.get('page')).toBe('2');
    expect(sent.headers).toEqual({ 'x-api-key': KEY, cookie: 'a=1; session=a%20b%3Bc' });
  });

  it('sends Basic over HTTPS or to loopback only, and refuses plain HTTP elsewhere with a clear error', async () => {
    const expected = `Basic ${Buffer.from(`ann:${PASSWORD}`).toString('base64')}`;
    expect((await auth.credentialsFor(req([{ basic: [] }]))).headers.authorization).toBe(expected);
    expect((await auth.credentialsFor(req([{ basic: [] }], 'http://127.0.0.1:8080/x'))).headers.authorization).toBe(
      expected,
    );
    expect((await auth.credentialsFor(req([{ basic: [] }], 'http://[::1]:8080/x'))).headers.authorization).toBe(
      expected,
    );
    for (const url of ['http://shop.example.test/v1', 'http://10.0.0.5/v1', 'http://127.0.0.1.nip.io/v1']) {
      const err = (await auth.credentialsFor(req([{ basic: [] }], url)).catch((e: unknown) => e)) as AuthError;
      expect(err).toBeInstanceOf(AuthError);
      expect(err.code).toBe(AuthErrorCode.insecureTransport);
      expect(err.message).toMatch(/only over HTTPS/);
      expect(err.message).not.toContain(PASSWORD);
    }
  });

  it('sends a bearer token (JWT)', async () => {
    expect((await auth.credentialsFor(req([{ jwt: [] }]))).headers).toEqual({ authorization: 'Bearer eyJhbGciOi.x.y' });
  });

  it('takes the first alternative the tenant can meet; none needed when the operation has no requirement', async () => {
    await f.store.put('globex', 'shop.jwt', { kind: 'bearer', token: 'globex-token' });
    // globex has no API key: the second alternative is used. acme has both: the first.
    const alternatives: Record<string, string[]>[] = [{ headerKey: [] }, { jwt: [] }];
    expect((await auth.credentialsFor(req(alternatives, undefined, 'globex'))).headers).toEqual({
      authorization: 'Bearer globex-token',
    });
    expect((await auth.credentialsFor(req(alternatives))).headers).toEqual({ 'x-api-key': KEY });
    expect(await auth.credentialsFor(req([]))).toEqual({ headers: {}, query: {}, cookies: {} });
    expect(await auth.credentialsFor(req([{}]))).toEqual({ headers: {}, query: {}, cookies: {} });
  });

  it('says which credential is missing, and refuses unknown APIs, undeclared and unsupported schemes', async () => {
    const missing = (await auth
      .credentialsFor(req([{ headerKey: [] }], undefined, 'globex'))
      .catch((e: unknown) => e)) as AuthError;
    expect(missing.code).toBe(AuthErrorCode.missingCredential);
    expect(missing.message).toContain('shop.headerKey');
    await expect(auth.credentialsFor({ ...req([{ headerKey: [] }]), apiRef: 'other' })).rejects.toMatchObject({
      code: AuthErrorCode.badInput,
    });
    await expect(auth.credentialsFor(req([{ nope: [] }]))).rejects.toMatchObject({ code: AuthErrorCode.badInput });
    await expect(auth.credentialsFor(req([{ digest: [] }]))).rejects.toMatchObject({
      code: AuthErrorCode.unsupportedScheme,
    });
    // mutualTLS is attached now (tls-client-certificate.test.ts); without its credential it is missing.
    await expect(auth.credentialsFor(req([{ mtls: [] }]))).rejects.toMatchObject({
      code: AuthErrorCode.missingCredential,
    });
    // A credential of the wrong kind is an error to fix, not a reason to try another alternative.
    await f.store.put('globex', 'shop.basic', { kind: 'bearer', token: 't' });
    await expect(auth.credentialsFor(req([{ basic: [] }, { jwt: [] }], undefined, 'globex'))).rejects.toMatchObject({
      code: AuthErrorCode.wrongKind,
    });
  });

  it('gives a definition’s HTTP step the headers of a named credential', async () => {
    const named = namedCredentialHeaders(f.store);
    expect(await named.headers('acme', 'shop.jwt')).toEqual({ authorization: 'Bearer eyJhbGciOi.x.y' });
    expect(await named.headers('acme', 'shop.basic')).toEqual({
      authorization: `Basic ${Buffer.from(`ann:${PASSWORD}`).toString('base64')}`,
    });
    expect(await named.headers('globex', 'shop.headerKey')).toBeUndefined();
  });

  it('serves the sandbox’s host HTTP function per scheme name, bound to one tenant and API', async () => {
    const acme = schemeCredentialProvider(auth, { tenantId: 'acme', apiRef: 'shop' });
    const url = new URL('https://shop.example.test/v1/orders');
    expect(await acme.credentialsFor('queryKey', { method: 'GET', url })).toEqual({
      headers: {},
      query: { api_key: KEY },
    });
    expect(await acme.credentialsFor('cookieKey', { method: 'GET', url })).toEqual({
      headers: { cookie: 'session=a%20b%3Bc' },
      query: {},
    });
    const globex = schemeCredentialProvider(auth, { tenantId: 'globex', apiRef: 'shop' });
    expect(await globex.credentialsFor('headerKey', { method: 'GET', url })).toBeUndefined();
    await expect(
      acme.credentialsFor('basic', { method: 'GET', url: new URL('http://shop.example.test/') }),
    ).rejects.toMatchObject({ code: AuthErrorCode.insecureTransport });
  });

  it('knows loopback', () => {
    expect(['http://localhost/', 'http://127.8.9.1/', 'http://[::1]/'].map((u) => isLoopback(new URL(u)))).toEqual([
      true,
      true,
      true,
    ]);
    expect(
      ['http://127.0.0.1.example/', 'http://[::ffff:8.8.8.8]/', 'http://0.0.0.0/'].map((u) => isLoopback(new URL(u))),
    ).toEqual([false, false, false]);
  });
});
