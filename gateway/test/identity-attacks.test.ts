import {
  createIdentityRepository,
  createRepositories,
  openMetadataDb,
  type IdentityRepository,
  type MetadataDb,
  type Repositories,
} from '@vansales/metadata';
import { GatewayError, GatewayErrorCode } from '../src/errors';
import { createIdentityService } from '../src/services/identity-service';

// The security review's attacks on the identity service, on the real (embedded PGlite) store.
let db: MetadataDb;
let identity: IdentityRepository;
let repos: Repositories;

beforeAll(async () => {
  db = await openMetadataDb({ kind: 'pglite' });
  identity = createIdentityRepository(db);
  repos = createRepositories(db);
});
afterAll(async () => db.destroy());

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: unknown) => (err instanceof GatewayError ? err.code : String(err)),
  );

test('parallel wrong passwords for one account get no more guesses than the throttle allows', async () => {
  const service = createIdentityService({
    identity,
    repos,
    settings: { signInThrottle: { failuresPerWindow: 3, windowMs: 60_000 } },
  });
  await service.bootstrap({ email: 'victim@acme.test', password: 'the-right-password', tenantId: 'acme' });
  // Before: every guess in flight passed the gate (none had failed yet), so a burst was never throttled.
  const outcomes = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      codeOf(service.signIn({ email: 'victim@acme.test', password: `guess-number-${i}` }, { ip: '203.0.113.7' })),
    ),
  );
  expect(outcomes.filter((c) => c === GatewayErrorCode.unauthorized)).toHaveLength(3);
  expect(outcomes.filter((c) => c === GatewayErrorCode.tooManyRequests)).toHaveLength(9);
  // A right password from elsewhere is still throttled for the window (the account is the subject).
  await expect(
    codeOf(service.signIn({ email: 'victim@acme.test', password: 'the-right-password' }, { ip: '198.51.100.1' })),
  ).resolves.toBe(GatewayErrorCode.tooManyRequests);
});

test('sign-ins that succeed do not count as failures, even in parallel', async () => {
  const service = createIdentityService({
    identity,
    repos,
    settings: { signInThrottle: { failuresPerWindow: 2, windowMs: 60_000 } },
  });
  for (let round = 0; round < 3; round++) {
    const outcomes = await Promise.all(
      [0, 1].map(() =>
        codeOf(service.signIn({ email: 'victim@acme.test', password: 'the-right-password' }, { ip: '192.0.2.9' })),
      ),
    );
    expect(outcomes).toEqual(['ok', 'ok']);
  }
  expect(service.signInStats().accounts.failures).toBe(0);
});

test('two people creating the same tenant id at once: one owns it, the other gets a 409', async () => {
  const service = createIdentityService({ identity, repos });
  const alice = (await identity.findUserByEmail('victim@acme.test'))!;
  const { userId: mallory } = await service.addMember(
    'acme',
    { email: 'mallory@evil.test', role: 'viewer', password: 'mallory-password' },
    'owner',
  );
  // Before: both passed the existence check before either inserted, and both were made owner.
  const outcomes = await Promise.all([
    codeOf(service.createTenantAsOwner({ id: 'newco', name: 'NewCo' }, alice.id)),
    codeOf(service.createTenantAsOwner({ id: 'newco', name: 'Mallory Co' }, mallory)),
  ]);
  expect([...outcomes].sort()).toEqual([GatewayErrorCode.conflict, 'ok'].sort());
  const members = await identity.listMembers('newco');
  expect(members).toHaveLength(1);
  expect((await repos.getTenant('newco'))?.name).toBe(outcomes[0] === 'ok' ? 'NewCo' : 'Mallory Co');
});

test("an admin cannot make themself owner, demote an owner, or keep a token's role after a demotion", async () => {
  const service = createIdentityService({ identity, repos });
  const { userId: adam } = await service.addMember(
    'acme',
    { email: 'adam@acme.test', role: 'admin', password: 'adam-password-1' },
    'owner',
  );
  const owner = (await identity.findUserByEmail('victim@acme.test'))!;
  await expect(codeOf(service.changeMember('acme', adam, 'owner', 'admin'))).resolves.toBe(GatewayErrorCode.forbidden);
  await expect(codeOf(service.changeMember('acme', owner.id, 'viewer', 'admin'))).resolves.toBe(
    GatewayErrorCode.forbidden,
  );
  await expect(
    codeOf(
      service.createToken(
        'acme',
        { name: 't', role: 'owner', expiresInDays: 1, kind: 'personal' },
        {
          userId: adam,
          label: `user:${adam}`,
          role: 'admin',
        },
      ),
    ),
  ).resolves.toBe(GatewayErrorCode.forbidden);
  const token = await service.createToken(
    'acme',
    { name: 't', role: 'admin', expiresInDays: 1, kind: 'personal' },
    { userId: adam, label: `user:${adam}`, role: 'admin' },
  );
  const credential = (await service.authenticate(token.token))!;
  await expect(service.roleIn(credential, 'acme')).resolves.toBe('admin');
  await expect(service.roleIn(credential, 'newco')).resolves.toBeUndefined();
  await service.changeMember('acme', adam, 'viewer', 'owner');
  await expect(service.roleIn(credential, 'acme')).resolves.toBe('viewer');
  await service.changeMember('acme', adam, null, 'owner');
  await expect(service.roleIn(credential, 'acme')).resolves.toBeUndefined();
});

test('an API token cannot mint tokens that outlive it, its revocation or its person', async () => {
  const service = createIdentityService({ identity, repos });
  const { userId: ada } = await service.addMember(
    'acme',
    { email: 'ada@acme.test', role: 'admin', password: 'ada-password-12' },
    'owner',
  );
  const leaked = await service.createToken(
    'acme',
    { name: 'laptop', role: 'admin', expiresInDays: 1, kind: 'personal' },
    { userId: ada, label: `user:${ada}`, role: 'admin' },
  );
  const credential = (await service.authenticate(leaked.token))!;
  const asLeaked = { userId: ada, label: `user:${ada}`, role: 'admin' as const, apiToken: true };
  // Before: the one-day token made a year-long tenant token, alive after the person left and it was revoked.
  for (const kind of ['tenant', 'personal'] as const)
    await expect(
      codeOf(service.createToken('acme', { name: 'keep', role: 'admin', expiresInDays: 365, kind }, asLeaked)),
    ).resolves.toBe(GatewayErrorCode.forbidden);
  const tenantToken = await service.createToken(
    'acme',
    { name: 'ci', role: 'admin', expiresInDays: 1, kind: 'tenant' },
    { label: 'user:owner', role: 'owner' },
  );
  await expect(
    codeOf(
      service.createToken(
        'acme',
        { name: 'more', role: 'admin', expiresInDays: 365, kind: 'tenant' },
        { label: `token:${tenantToken.id}`, role: 'admin', apiToken: true },
      ),
    ),
  ).resolves.toBe(GatewayErrorCode.forbidden);
  expect((await identity.listApiTokens('acme')).map((t) => t.name).sort()).toEqual(
    expect.not.arrayContaining(['keep', 'more']),
  );
  expect(credential.kind).toBe('person');
});

test("another tenant's admin cannot plant an account that a victim tenant later adds (email squatting)", async () => {
  const service = createIdentityService({ identity, repos });
  // Mallory owns a tenant of her own and plants ceo@victim.test there, with a password she chose.
  const { userId: mallory } = await service.addMember(
    'acme',
    { email: 'mallory2@evil.test', role: 'viewer', password: 'mallory-password-2' },
    'owner',
  );
  await service.createTenantAsOwner({ id: 'evilco', name: 'Evil Co' }, mallory);
  await service.addMember(
    'evilco',
    { email: 'ceo@victim.test', role: 'viewer', password: 'chosen-by-mallory' },
    'owner',
  );
  // Before: acme's owner adding the address joined Mallory's account (the password given ignored), and
  // Mallory signed in as it inside acme. Now an existing account never joins on another tenant's say-so.
  await expect(
    codeOf(
      service.addMember('acme', { email: 'ceo@victim.test', role: 'admin', password: 'acme-chosen-password' }, 'owner'),
    ),
  ).resolves.toBe(GatewayErrorCode.conflict);
  const planted = (await identity.findUserByEmail('ceo@victim.test'))!;
  expect(await identity.memberRole('acme', planted.id)).toBeUndefined();
});

test('adding a member to a tenant that does not exist is a 404 and makes no account (was a 500 and an orphan account)', async () => {
  const service = createIdentityService({ identity, repos });
  // The admin token passes the role check for any tenant id (the schemathesis run found it).
  await expect(
    codeOf(
      service.addMember(
        'no-such-tenant',
        { email: 'orphan@nowhere.test', role: 'owner', password: 'pw-long-enough-1' },
        'owner',
      ),
    ),
  ).resolves.toBe(GatewayErrorCode.notFound);
  expect(await identity.findUserByEmail('orphan@nowhere.test')).toBeUndefined();
});
