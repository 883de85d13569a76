import { createHash, randomUUID } from 'node:crypto';
import { startPlatform, type Platform } from './support/harness';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
interface AuditEvent {
  operation: string;
  outcome: string;
  errorType?: string;
  person: { principal: string; ip: string; userAgent?: string; status: number; target?: Record<string, string> };
}

/**
 * Identity round two (issue 12 section 1): invitations, password change, sign-ins in the people
 * audit, and tenant tokens that stop with their maker's standing. Real PostgreSQL and Redis.
 */
describe('invitations, password change, sign-in audit, tenant tokens of removed admins (real services)', () => {
  let platform: Platform;
  /** Every password and token this test saw: none may reach a log line. */
  const secrets: string[] = [];
  const remember = <T extends string>(secret: T): T => (secrets.push(secret), secret);
  const password = () => remember(`pw-${randomUUID()}`);
  const api = <T = Record<string, unknown>>(method: Method, url: string, body?: unknown, token?: string) =>
    platform.api<T>(method, url, body, token);
  /** A request from a given address and user agent (what the audit must record). */
  const from = (method: Method, url: string, body: unknown, opts: { token?: string; ip: string; userAgent: string }) =>
    platform.gateway.app.inject({
      method,
      url,
      payload: body as object | undefined,
      remoteAddress: opts.ip,
      headers: {
        'user-agent': opts.userAgent,
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      },
    });
  const signIn = async (email: string, pw: string) => {
    const res = await api<{ token: string; user: { id: string } }>('POST', '/v1/sessions', { email, password: pw });
    expect(res.status).toBe(201);
    secrets.push(res.body.token);
    return res.body;
  };
  /** A new account in acme with a role (created by the owner with an initial password). */
  const person = async (role: string) => {
    const email = `${role}-${randomUUID()}@example.com`;
    const pw = password();
    const added = await api<{ userId: string }>(
      'POST',
      '/v1/tenants/acme/members',
      { email, role, password: pw },
      owner,
    );
    expect(added.status).toBe(201);
    const { token } = await signIn(email, pw);
    return { email, password: pw, userId: added.body.userId, session: token };
  };
  const audit = async (tenantId: string, query: string, token = owner) => {
    const res = await api<{ events: AuditEvent[] }>(
      'GET',
      `/v1/tenants/${tenantId}/audit?limit=1000&${query}`,
      undefined,
      token,
    );
    expect(res.status).toBe(200);
    return res.body.events;
  };
  const invite = async (tenantId: string, email: string, role: string, token: string) => {
    const res = await api<{ id: string; token: string; email: string; expiresAt: string }>(
      'POST',
      `/v1/tenants/${tenantId}/invitations`,
      { email, role },
      token,
    );
    expect(res.status).toBe(201);
    secrets.push(res.body.token);
    return res.body;
  };

  let owner: string;
  let ownerId: string;

  beforeAll(async () => {
    platform = await startPlatform({ gateway: { VSC_SIGNIN_FAILURES_PER_WINDOW: '3' } });
    const email = `owner-${randomUUID()}@example.com`;
    const pw = password();
    const boot = await api<{ user: { id: string } }>('POST', '/v1/bootstrap', {
      email,
      password: pw,
      tenantId: 'acme',
    });
    expect(boot.status).toBe(201);
    ownerId = boot.body.user.id;
    owner = (await signIn(email, pw)).token;
    expect((await api('POST', '/v1/tenants', { id: 'bravo', name: 'Bravo' }, owner)).status).toBe(201);
  }, 120_000);
  afterAll(async () => platform?.close());

  it('lets an existing account join a second tenant by accepting an invitation with its own session, once', async () => {
    const x = await person('viewer');
    // The email-squatting protection stays: nobody adds an existing account directly.
    const direct = await api('POST', '/v1/tenants/bravo/members', { email: x.email, role: 'operator' }, owner);
    expect(direct.status).toBe(409);

    const inv = await invite('bravo', x.email.toUpperCase().replace('@EXAMPLE.COM', '@example.com'), 'operator', owner);
    expect(inv.token).toMatch(/^vin_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    expect(inv.email).toBe(x.email);
    // Seven days by default.
    expect(Date.parse(inv.expiresAt) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    // Stored hashed; listed without the token.
    const row = await platform.gateway.db
      .selectFrom('tenant_invitations')
      .selectAll()
      .where('id', '=', inv.id)
      .executeTakeFirstOrThrow();
    expect(Buffer.from(row.hash).equals(createHash('sha256').update(inv.token.slice(37)).digest())).toBe(true);
    const listed = await api<{ invitations: { id: string }[] }>(
      'GET',
      '/v1/tenants/bravo/invitations',
      undefined,
      owner,
    );
    expect(listed.body.invitations.map((i) => i.id)).toContain(inv.id);
    expect(JSON.stringify(listed.body)).not.toContain(inv.token.slice(37));

    // Someone else's session cannot use it (a forwarded or intercepted invitation is worth nothing).
    const y = await person('viewer');
    const stolen = await api<{ error: { message: string } }>(
      'POST',
      '/v1/invitations/accept',
      { token: inv.token },
      y.session,
    );
    expect(stolen.status).toBe(403);
    expect(stolen.body.error.message).toMatch(/for another address/);
    // Nor an API token of the person (accepting is done by the person, with a session).
    const xToken = await api<{ token: string }>(
      'POST',
      '/v1/tenants/acme/tokens',
      { name: 't', role: 'viewer' },
      x.session,
    );
    secrets.push(xToken.body.token);
    expect((await api('POST', '/v1/invitations/accept', { token: inv.token }, xToken.body.token)).status).toBe(403);
    // A forged secret for the real id finds nothing.
    expect(
      (await api('POST', '/v1/invitations/accept', { token: `${inv.token.slice(0, 37)}${'A'.repeat(43)}` }, x.session))
        .status,
    ).toBe(404);

    const accepted = await api<{ tenantId: string; role: string }>(
      'POST',
      '/v1/invitations/accept',
      { token: inv.token },
      x.session,
    );
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ tenantId: 'bravo', role: 'operator' });
    const me = await api<{ memberships: { tenantId: string; role: string }[] }>('GET', '/v1/me', undefined, x.session);
    expect(me.body.memberships).toEqual([
      { tenantId: 'acme', role: 'viewer' },
      { tenantId: 'bravo', role: 'operator' },
    ]);
    expect((await api('GET', '/v1/tenants/bravo/connectors', undefined, x.session)).status).toBe(200);
    // Single use.
    const again = await api<{ error: { message: string } }>(
      'POST',
      '/v1/invitations/accept',
      { token: inv.token },
      x.session,
    );
    expect(again.status).toBe(410);
    expect(again.body.error.message).toMatch(/used already/);

    const events = await audit('bravo', `principal=user:${x.userId}`);
    expect(events.map((e) => `${e.operation} ${e.outcome}`)).toContain('POST /v1/invitations/accept ok');
    const tried = await audit('bravo', `principal=user:${y.userId}`);
    expect(tried.map((e) => `${e.operation} ${e.outcome} ${e.errorType}`)).toContain(
      'POST /v1/invitations/accept refused other-address',
    );
    const byOwner = await audit('bravo', `operation=${encodeURIComponent('POST /v1/tenants/:tenantId/invitations')}`);
    expect(byOwner[0]?.person.principal).toBe(`user:${ownerId}`);
  });

  it('lets one of two simultaneous acceptances of an invitation win', async () => {
    const x = await person('viewer');
    const inv = await invite('bravo', x.email, 'author', owner);
    const both = await Promise.all(
      [1, 2].map(() => api('POST', '/v1/invitations/accept', { token: inv.token }, x.session)),
    );
    // The loser is told it is a member already (it lost inside the transaction) or that the invitation
    // is used (it arrived after): which one depends on timing; that exactly one wins does not.
    const [winner, loser] = both.map((r) => r.status).sort();
    expect(winner).toBe(200);
    expect([409, 410]).toContain(loser);
    const members = await api<{ members: { userId: string; role: string }[] }>(
      'GET',
      '/v1/tenants/bravo/members',
      undefined,
      owner,
    );
    expect(members.body.members.filter((m) => m.userId === x.userId)).toEqual([
      expect.objectContaining({ role: 'author' }),
    ]);

    // Two registrations with one token: one account, one member.
    const email = `race-${randomUUID()}@example.com`;
    const forNew = await invite('bravo', email, 'viewer', owner);
    const regs = await Promise.all(
      [1, 2].map(() =>
        api<{ token?: string }>('POST', '/v1/invitations/register', { token: forNew.token, password: password() }),
      ),
    );
    for (const r of regs) if (r.body.token) remember(r.body.token);
    const [created, refused] = regs.map((r) => r.status).sort();
    expect(created).toBe(201);
    expect([409, 410]).toContain(refused);
    const accounts = await platform.gateway.db.selectFrom('users').select('id').where('email', '=', email).execute();
    expect(accounts).toHaveLength(1);
  });

  it('refuses revoked and expired invitations with 410, and only owners invite owners', async () => {
    const admin = await person('admin');
    expect(
      (await api('POST', '/v1/tenants/acme/invitations', { email: 'o@example.com', role: 'owner' }, admin.session))
        .status,
    ).toBe(403);
    // Members without members:write cannot invite or list.
    const viewer = await person('viewer');
    expect(
      (await api('POST', '/v1/tenants/acme/invitations', { email: 'v@example.com', role: 'viewer' }, viewer.session))
        .status,
    ).toBe(403);
    expect((await api('GET', '/v1/tenants/acme/invitations', undefined, viewer.session)).status).toBe(403);

    const revokedFor = `rev-${randomUUID()}@example.com`;
    const revoked = await invite('acme', revokedFor, 'viewer', admin.session);
    const del = await api<{ revokedAt: string | null }>(
      'DELETE',
      `/v1/tenants/acme/invitations/${revoked.id}`,
      undefined,
      admin.session,
    );
    expect(del.status).toBe(200);
    expect(del.body.revokedAt).not.toBeNull();
    const afterRevoke = await api<{ error: { message: string } }>('POST', '/v1/invitations/register', {
      token: revoked.token,
      password: password(),
    });
    expect(afterRevoke.status).toBe(410);
    expect(afterRevoke.body.error.message).toMatch(/revoked/);

    const expired = await invite('acme', `exp-${randomUUID()}@example.com`, 'viewer', admin.session);
    await platform.gateway.db
      .updateTable('tenant_invitations')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', expired.id)
      .execute();
    const late = await api<{ error: { message: string } }>('POST', '/v1/invitations/register', {
      token: expired.token,
      password: password(),
    });
    expect(late.status).toBe(410);
    expect(late.body.error.message).toMatch(/expire/);
    // Nothing was created by the refusals.
    const created = await platform.gateway.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', revokedFor)
      .execute();
    expect(created).toEqual([]);
  });

  it('lets a new person create their account with the token; an existing address must sign in instead', async () => {
    const email = `new-${randomUUID()}@example.com`;
    const inv = await invite('acme', email, 'author', owner);
    const pw = password();
    const reg = await api<{ token: string; user: { email: string }; membership: { role: string } }>(
      'POST',
      '/v1/invitations/register',
      { token: inv.token, password: pw, displayName: 'New Person' },
    );
    expect(reg.status).toBe(201);
    secrets.push(reg.body.token);
    expect(reg.body.user.email).toBe(email);
    expect(reg.body.membership.role).toBe('author');
    const me = await api<{ memberships: { tenantId: string; role: string }[] }>(
      'GET',
      '/v1/me',
      undefined,
      reg.body.token,
    );
    expect(me.body.memberships).toEqual([{ tenantId: 'acme', role: 'author' }]);
    // The password they chose signs them in.
    await signIn(email, pw);
    expect((await api('POST', '/v1/invitations/register', { token: inv.token, password: password() })).status).toBe(
      410,
    );

    // An invitation for an address with an account cannot set that account's password.
    const existing = await person('viewer');
    const forExisting = await invite('bravo', existing.email, 'viewer', owner);
    const refused = await api<{ error: { message: string } }>('POST', '/v1/invitations/register', {
      token: forExisting.token,
      password: password(),
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/sign in with it and accept/);
    await signIn(existing.email, existing.password);
    // ... and the invitation is still good for its owner.
    expect((await api('POST', '/v1/invitations/accept', { token: forExisting.token }, existing.session)).status).toBe(
      200,
    );
  });

  it('changes a password: the current one checked, other sessions ended, audited, lockout applies', async () => {
    const p = await person('operator');
    const other = (await signIn(p.email, p.password)).token;
    const wrong = await api('PUT', '/v1/me/password', { current: 'not-the-password', next: password() }, p.session);
    expect(wrong.status).toBe(403);
    const next = password();
    const changed = await api<{ endedSessions: number }>(
      'PUT',
      '/v1/me/password',
      { current: p.password, next },
      p.session,
    );
    expect(changed.status).toBe(200);
    expect(changed.body.endedSessions).toBe(1);
    expect((await api('GET', '/v1/me', undefined, other)).status).toBe(401);
    expect((await api('GET', '/v1/me', undefined, p.session)).status).toBe(200);
    expect((await api('POST', '/v1/sessions', { email: p.email, password: p.password })).status).toBe(401);
    await signIn(p.email, next);
    // Too short a new password: a clear 400.
    const short = await api<{ error: { message: string } }>(
      'PUT',
      '/v1/me/password',
      { current: next, next: 'short' },
      p.session,
    );
    expect(short.status).toBe(400);
    expect(short.body.error.message).toMatch(/at least 12 characters/);

    const events = await audit(
      'acme',
      `principal=user:${p.userId}&operation=${encodeURIComponent('PUT /v1/me/password')}`,
    );
    expect(events.map((e) => `${e.outcome}${e.errorType ? `:${e.errorType}` : ''}`).sort()).toEqual([
      'ok',
      'refused:bad-password',
    ]);

    // The sign-in lockout covers the current-password check: a stolen session cannot guess faster.
    const q = await person('viewer');
    for (let i = 0; i < 3; i++)
      expect(
        (await api('PUT', '/v1/me/password', { current: `guess-${i}-password`, next: password() }, q.session)).status,
      ).toBe(403);
    const locked = await from(
      'PUT',
      '/v1/me/password',
      { current: q.password, next: password() },
      {
        token: q.session,
        ip: '203.0.113.9',
        userAgent: 'lockout-test',
      },
    );
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('records sign-ins, good and refused, in the people audit of every tenant of the account', async () => {
    const x = await person('viewer');
    const inv = await invite('bravo', x.email, 'viewer', owner);
    expect((await api('POST', '/v1/invitations/accept', { token: inv.token }, x.session)).status).toBe(200);
    const ok = await from(
      'POST',
      '/v1/sessions',
      { email: x.email, password: x.password },
      {
        ip: '198.51.100.21',
        userAgent: 'console/2.0 (audit test)',
      },
    );
    expect(ok.statusCode).toBe(201);
    secrets.push(ok.json<{ token: string }>().token);
    const bad = await from(
      'POST',
      '/v1/sessions',
      { email: x.email, password: 'a wrong password here' },
      {
        ip: '198.51.100.22',
        userAgent: 'curl/8',
      },
    );
    expect(bad.statusCode).toBe(401);
    for (const tenantId of ['acme', 'bravo']) {
      const events = await audit(tenantId, `principal=user:${x.userId}&operation=sign-in`);
      const good = events.find((e) => e.person.ip === '198.51.100.21');
      const refused = events.find((e) => e.person.ip === '198.51.100.22');
      expect(good).toMatchObject({
        outcome: 'ok',
        person: { userAgent: 'console/2.0 (audit test)', status: 201, target: { method: 'password' } },
      });
      expect(refused).toMatchObject({
        outcome: 'refused',
        errorType: 'bad-credentials',
        person: { userAgent: 'curl/8', status: 401, target: { method: 'password' } },
      });
    }
    // Another tenant's chain has none of it.
    expect((await api('POST', '/v1/tenants', { id: 'charlie', name: 'Charlie' }, owner)).status).toBe(201);
    expect(await audit('charlie', `principal=user:${x.userId}`)).toEqual([]);
  });

  it('stops the tenant tokens of a removed or demoted admin, keeping only what their new role could make', async () => {
    const mint = async (session: string, role: string) => {
      const res = await api<{ id: string; token: string }>(
        'POST',
        '/v1/tenants/acme/tokens',
        { name: `ci-${role}`, role, kind: 'tenant' },
        session,
      );
      expect(res.status).toBe(201);
      secrets.push(res.body.token);
      return res.body;
    };
    const works = async (token: string) => (await api('GET', '/v1/tenants/acme/connectors', undefined, token)).status;

    // Removed: every tenant token they made stops.
    const removed = await person('admin');
    const removedToken = await mint(removed.session, 'operator');
    expect(await works(removedToken.token)).toBe(200);
    expect((await api('DELETE', `/v1/tenants/acme/members/${removed.userId}`, undefined, owner)).status).toBe(204);
    expect(await works(removedToken.token)).toBe(401);

    // Demoted below admin (who may make no tenant token): all stop, and the answer names them.
    const demoted = await person('admin');
    const demotedToken = await mint(demoted.session, 'viewer');
    const change = await api<{ revokedTokens: string[] }>(
      'PUT',
      `/v1/tenants/acme/members/${demoted.userId}`,
      { role: 'operator' },
      owner,
    );
    expect(change.status).toBe(200);
    expect(change.body.revokedTokens).toEqual([demotedToken.id]);
    expect(await works(demotedToken.token)).toBe(401);

    // An owner demoted to admin: the owner-role token stops, the operator one (an admin could make it) stays.
    const co = await person('viewer');
    expect((await api('PUT', `/v1/tenants/acme/members/${co.userId}`, { role: 'owner' }, owner)).status).toBe(200);
    const ownerToken = await mint(co.session, 'owner');
    const operatorToken = await mint(co.session, 'operator');
    const down = await api<{ revokedTokens: string[] }>(
      'PUT',
      `/v1/tenants/acme/members/${co.userId}`,
      { role: 'admin' },
      owner,
    );
    expect(down.body.revokedTokens).toEqual([ownerToken.id]);
    expect(await works(ownerToken.token)).toBe(401);
    expect(await works(operatorToken.token)).toBe(200);
  });

  it('keeps tenants apart on the new routes, and no password or token reaches a log line', async () => {
    const outsider = await person('viewer');
    // An owner of another tenant (charlie is the owner's; make one for the outsider).
    expect((await api('POST', '/v1/tenants', { id: 'delta', name: 'Delta' }, outsider.session)).status).toBe(201);
    const inv = await invite('bravo', `z-${randomUUID()}@example.com`, 'viewer', owner);
    for (const [method, url] of [
      ['GET', '/v1/tenants/bravo/invitations'],
      ['POST', '/v1/tenants/bravo/invitations'],
      ['DELETE', `/v1/tenants/bravo/invitations/${inv.id}`],
    ] as const) {
      const res = await api(
        method,
        url,
        method === 'POST' ? { email: 'a@example.com', role: 'viewer' } : undefined,
        outsider.session,
      );
      expect(res.status).toBe(404);
    }
    // Revoking bravo's invitation through delta's path finds nothing either.
    expect((await api('DELETE', `/v1/tenants/delta/invitations/${inv.id}`, undefined, outsider.session)).status).toBe(
      404,
    );

    const logs = platform.logs.lines.join('\n');
    expect(secrets.length).toBeGreaterThan(10);
    for (const secret of secrets) expect(logs).not.toContain(secret);
    for (const secret of secrets.filter((s) => /^v(ss|at|in)_/.test(s))) expect(logs).not.toContain(secret.slice(37));
  });
});
