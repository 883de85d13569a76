import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload, type KeyLike } from 'jose';
import { createIdentityRepository, openMetadataDb, type MetadataDb } from '@vansales/metadata';
import { GatewayError } from '../src/errors';
import { createSsoService, type SsoSettings } from '../src/services/sso-service';
import type { IdentityService } from '../src/services/identity-service';

/**
 * The ID token checks the real provider cannot be made to fail (it signs with its own key, for the
 * client that exchanged the code): a local HTTP server stands in for the provider and answers the
 * code exchange with whatever ID token a case needs.
 */
describe('single sign-on: the ID token is verified (signature, issuer, audience, expiry)', () => {
  let server: Server;
  let issuer: string;
  let nextIdToken: (nonce: string) => Promise<string>;
  const provider = { signing: undefined as unknown as KeyLike, other: undefined as unknown as KeyLike };
  let lastNonce = '';
  // The sign-ins in progress live in the metadata store (PGlite in memory here, PostgreSQL in the e2e test).
  let db: MetadataDb;

  beforeAll(async () => {
    db = await openMetadataDb({ kind: 'pglite' });
    const keys = await generateKeyPair('RS256');
    const other = await generateKeyPair('RS256');
    provider.signing = keys.privateKey;
    provider.other = other.privateKey;
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((req, res) => {
      const url = new URL(req.url!, issuer);
      const json = (body: unknown) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (url.pathname === '/.well-known/openid-configuration')
        return json({
          issuer,
          authorization_endpoint: `${issuer}/auth`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
        });
      if (url.pathname === '/jwks') return json({ keys: [jwk] });
      if (url.pathname === '/token') return void nextIdToken(lastNonce).then((id_token) => json({ id_token }));
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await db?.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const sign = (claims: JWTPayload, key = provider.signing) =>
    new SignJWT({ email: 'ann@example.com', email_verified: true, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .sign(key);
  const good = (nonce: string): JWTPayload => ({
    iss: issuer,
    aud: 'gw',
    sub: 'ann',
    nonce,
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 300,
  });

  const service = (now: () => number, settings?: Partial<SsoSettings>) =>
    createSsoService({
      now,
      settings,
      states: createIdentityRepository(db),
      providers: [
        {
          name: 'corp',
          issuer,
          clientId: 'gw',
          clientSecret: 's',
          redirectUri: 'http://gw.test/cb',
          allowedDomains: ['example.com'],
          scope: 'openid email',
        },
      ],
      identity: { signInVerified: async () => ({ token: 'vss_x' }) } as unknown as IdentityService,
    });

  /** One sign-in through the service with the stand-in's answer; the error's reason, or 'ok'. */
  async function signInWith(idToken: (nonce: string) => Promise<string>, lateByMs = 0): Promise<string> {
    let clock = Date.now();
    const sso = service(() => clock);
    const url = new URL(await sso.start('corp', { ip: '127.0.0.1' }));
    lastNonce = url.searchParams.get('nonce')!;
    nextIdToken = idToken;
    clock += lateByMs;
    try {
      await sso.callback('corp', { state: url.searchParams.get('state')!, code: 'c' }, { ip: '127.0.0.1' });
      return 'ok';
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      return `${String(err.details?.reason)}: ${err.message}`;
    }
  }

  it('accepts a token signed by the JWKS key for this client, issuer and nonce', async () => {
    expect(await signInWith((nonce) => sign(good(nonce)))).toBe('ok');
  });
  it('refuses another audience', async () => {
    expect(await signInWith((nonce) => sign({ ...good(nonce), aud: 'someone-else' }))).toMatch(
      /^sso-id-token: .*"aud"/,
    );
  });
  it('refuses another issuer', async () => {
    expect(await signInWith((nonce) => sign({ ...good(nonce), iss: 'http://evil.test' }))).toMatch(
      /^sso-id-token: .*"iss"/,
    );
  });
  it('refuses a signature by a key not in the JWKS', async () => {
    expect(await signInWith((nonce) => sign(good(nonce), provider.other))).toMatch(
      /^sso-id-token: .*ERR_JWS_SIGNATURE_VERIFICATION_FAILED/,
    );
  });
  it('refuses an expired token', async () => {
    const past = Math.floor(Date.now() / 1000) - 600;
    expect(await signInWith((nonce) => sign({ ...good(nonce), iat: past - 60, exp: past }))).toMatch(
      /^sso-id-token: .*ERR_JWT_EXPIRED/,
    );
  });
  it('refuses an unverified address', async () => {
    expect(await signInWith((nonce) => sign({ ...good(nonce), email_verified: false }))).toMatch(
      /no verified email address/,
    );
  });
  it('refuses a state older than ten minutes, and takes one just younger', async () => {
    expect(await signInWith((nonce) => sign(good(nonce)), 10 * 60_000 + 1)).toMatch(/^sso-state: .*expired/);
    expect(await signInWith((nonce) => sign(good(nonce)), 10 * 60_000 - 1000)).toBe('ok');
  });

  it('throttles starts per source address: 429 with a Retry-After, other addresses unaffected', async () => {
    const sso = service(Date.now, { startsPerWindow: 3, startWindowMs: 60_000 });
    for (let i = 0; i < 3; i++) await sso.start('corp', { ip: '198.51.100.7' });
    const refused = await sso.start('corp', { ip: '198.51.100.7' }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(GatewayError);
    expect((refused as GatewayError).code).toBe('TOO_MANY_REQUESTS');
    expect((refused as GatewayError).message).toMatch(
      /too many single sign-ons started from this address; try again in \d+ s/,
    );
    expect(Number((refused as GatewayError).details?.retryAfterSeconds)).toBeGreaterThan(0);
    await expect(sso.start('corp', { ip: '198.51.100.8' })).resolves.toContain('code_challenge');
  });

  it('finishes a sign-in started by another instance over the same store, once', async () => {
    const first = service(Date.now);
    const second = service(Date.now);
    const url = new URL(await first.start('corp', { ip: '127.0.0.1' }));
    lastNonce = url.searchParams.get('nonce')!;
    nextIdToken = (nonce) => sign(good(nonce));
    const query = { state: url.searchParams.get('state')!, code: 'c' };
    await expect(second.callback('corp', query, { ip: '127.0.0.1' })).resolves.toEqual({ token: 'vss_x' });
    await expect(first.callback('corp', query, { ip: '127.0.0.1' })).rejects.toThrow(
      /unknown, used already or expired/,
    );
  });
});
