import { randomUUID } from 'node:crypto';
import type { RouteOptions } from 'fastify';
import { ROLES, ROUTE_ACCESS, roleAllows, type Access, type Permission } from '@vansales/gateway';
import { startPlatform, type Platform } from './support/harness';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
type Role = (typeof ROLES)[number];

/** Plausible path values: the tenant's real ids where it has them, so a refusal is not just "no such thing". */
function fillPath(url: string, values: Record<string, string>): string {
  return url.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(values[name] ?? 'x1'));
}

describe('people, tenants, roles and tokens (issue 12 part 1; real services)', () => {
  let platform: Platform;
  const routes: { method: Method; url: string; auth: unknown }[] = [];
  const passwords = new Map<string, string>();
  const secrets: string[] = [];
  const password = () => {
    const p = `pw-${randomUUID()}`;
    secrets.push(p);
    return p;
  };
  const api = <T = Record<string, unknown>>(method: Method, url: string, body?: unknown, token?: string) =>
    platform.api<T>(method, url, body, token);
  /** Status and text of any answer (some are not JSON: the NDJSON export). */
  const raw = async (method: Method, url: string, body: unknown, token: string | undefined) => {
    const res = await platform.gateway.app.inject({
      method,
      url,
      payload: body as object | undefined,
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.statusCode, body: res.body };
  };
  const signIn = async (email: string) => {
    const res = await api<{ token: string }>('POST', '/v1/sessions', {
      email,
      password: passwords.get(email.toLowerCase()),
    });
    expect(res.status).toBe(201);
    secrets.push(res.body.token);
    return res.body.token;
  };

  /** A session token per role in tenant acme. */
  const sessionOf: Partial<Record<Role, string>> = {};
  const userIdOf: Partial<Record<Role, string>> = {};
  let ownerEmail: string;

  beforeAll(async () => {
    platform = await startPlatform({
      gateway: { VSC_SIGNIN_FAILURES_PER_WINDOW: '3' },
      onRoute: (route: RouteOptions) => {
        for (const method of [route.method].flat())
          if (method !== 'HEAD') routes.push({ method: method as Method, url: route.url, auth: route.config?.auth });
      },
    });
  }, 120_000);
  afterAll(async () => platform?.close());

  it('bootstraps the first owner with the admin token only, once', async () => {
    ownerEmail = `owner-${randomUUID()}@example.com`;
    passwords.set(ownerEmail, password());
    const first = await api<{ user: { id: string }; role: string }>('POST', '/v1/bootstrap', {
      email: ownerEmail,
      password: passwords.get(ownerEmail),
      tenantId: 'acme',
      tenantName: 'Acme',
    });
    expect(first.status).toBe(201);
    expect(first.body.role).toBe('owner');
    userIdOf.owner = first.body.user.id;
    sessionOf.owner = await signIn(ownerEmail);

    const again = await api('POST', '/v1/bootstrap', {
      email: `other-${randomUUID()}@example.com`,
      password: password(),
      tenantId: 'acme',
    });
    expect(again.status).toBe(409);
    // A person, even an owner, cannot use the bootstrap.
    const byOwner = await api(
      'POST',
      '/v1/bootstrap',
      { email: `x-${randomUUID()}@example.com`, password: password(), tenantId: 'acme' },
      sessionOf.owner,
    );
    expect(byOwner.status).toBe(403);
  });

  it('signs in with a hashed, expiring session token; /v1/me names the memberships; sign-out ends it at once', async () => {
    const wrong = await api('POST', '/v1/sessions', { email: ownerEmail, password: 'not the password at all' });
    expect(wrong.status).toBe(401);
    const token = await signIn(ownerEmail.toUpperCase().replace('@EXAMPLE.COM', '@example.com'));
    expect(token).toMatch(/^vss_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    const me = await api<{ memberships: { tenantId: string; role: string }[] }>('GET', '/v1/me', undefined, token);
    expect(me.status).toBe(200);
    expect(me.body.memberships).toEqual([{ tenantId: 'acme', role: 'owner' }]);
    expect((await api('DELETE', '/v1/sessions/current', undefined, token)).status).toBe(204);
    expect((await api('GET', '/v1/me', undefined, token)).status).toBe(401);
    // A forged secret for a real session id is refused too.
    const forged = `${sessionOf.owner!.slice(0, 37)}${'A'.repeat(43)}`;
    expect((await api('GET', '/v1/me', undefined, forged)).status).toBe(401);
  });

  it('locks an account out with 429 and Retry-After after repeated failures, even for the right password', async () => {
    const email = `locked-${randomUUID()}@example.com`;
    passwords.set(email, password());
    expect(
      (
        await api(
          'POST',
          '/v1/tenants/acme/members',
          { email, role: 'viewer', password: passwords.get(email) },
          sessionOf.owner,
        )
      ).status,
    ).toBe(201);
    for (let i = 0; i < 3; i++)
      expect((await api('POST', '/v1/sessions', { email, password: `wrong-${i}-password` })).status).toBe(401);
    const res = await platform.gateway.app.inject({
      method: 'POST',
      url: '/v1/sessions',
      payload: { email, password: passwords.get(email) },
      remoteAddress: '10.9.8.7',
    });
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.json().error.message).toMatch(/too many failed sign-ins.*try again in \d+ s/);
  });

  it('adds members with each role, changes roles, and keeps the last owner', async () => {
    for (const role of ROLES.filter((r) => r !== 'owner')) {
      const email = `${role}-${randomUUID()}@example.com`;
      passwords.set(email, password());
      const added = await api<{ userId: string; role: string }>(
        'POST',
        '/v1/tenants/acme/members',
        { email, role, password: passwords.get(email) },
        sessionOf.owner,
      );
      expect(added.status).toBe(201);
      userIdOf[role] = added.body.userId;
      sessionOf[role] = await signIn(email);
    }
    const list = await api<{ members: { role: string }[] }>(
      'GET',
      '/v1/tenants/acme/members',
      undefined,
      sessionOf.viewer,
    );
    expect(list.status).toBe(200);
    expect(list.body.members.map((m) => m.role).sort()).toEqual(expect.arrayContaining([...ROLES]));

    // Only an owner makes owners; the last owner can be neither demoted nor removed.
    const byAdmin = await api('PUT', `/v1/tenants/acme/members/${userIdOf.viewer}`, { role: 'owner' }, sessionOf.admin);
    expect(byAdmin.status).toBe(403);
    const demote = await api('PUT', `/v1/tenants/acme/members/${userIdOf.owner}`, { role: 'admin' }, sessionOf.owner);
    expect(demote.status).toBe(409);
    expect((demote.body as { error: { message: string } }).error.message).toMatch(/last owner/);
    const remove = await api('DELETE', `/v1/tenants/acme/members/${userIdOf.owner}`, undefined, sessionOf.owner);
    expect(remove.status).toBe(409);

    // A role change takes effect on the next request of the same session.
    const email = `mover-${randomUUID()}@example.com`;
    passwords.set(email, password());
    const mover = await api<{ userId: string }>(
      'POST',
      '/v1/tenants/acme/members',
      { email, role: 'viewer', password: passwords.get(email) },
      sessionOf.admin,
    );
    const moverSession = await signIn(email);
    expect((await api('POST', '/v1/tenants/acme/connectors', { name: 'mover-site' }, moverSession)).status).toBe(403);
    expect(
      (await api('PUT', `/v1/tenants/acme/members/${mover.body.userId}`, { role: 'operator' }, sessionOf.admin)).status,
    ).toBe(200);
    expect((await api('POST', '/v1/tenants/acme/connectors', { name: 'mover-site' }, moverSession)).status).toBe(201);
    expect(
      (await api('DELETE', `/v1/tenants/acme/members/${mover.body.userId}`, undefined, sessionOf.admin)).status,
    ).toBe(204);
    expect((await api('GET', '/v1/tenants/acme/connectors', undefined, moverSession)).status).toBe(404);
  });

  it('declares a row of the role x route table for every control-plane route', () => {
    expect(routes.length).toBeGreaterThan(60);
    const undeclared = routes
      .filter((r) => r.auth === 'admin')
      .map((r) => `${r.method} ${r.url}`)
      .filter((name) => !(name in ROUTE_ACCESS));
    expect(undeclared).toEqual([]);
  });

  it('enforces the table on every tenant route for every role: 403 exactly where the role lacks the permission', async () => {
    const mismatches: string[] = [];
    const tenantRoutes = routes.filter((r) => r.auth === 'admin' && r.url.includes(':tenantId'));
    expect(tenantRoutes.length).toBeGreaterThan(50);
    for (const route of tenantRoutes) {
      const access = ROUTE_ACCESS[`${route.method} ${route.url}`] as Access;
      const url = fillPath(route.url, { tenantId: 'acme', connectorId: randomUUID(), userId: randomUUID() });
      for (const role of ROLES) {
        const res = await raw(
          route.method,
          url,
          route.method === 'GET' || route.method === 'DELETE' ? undefined : {},
          sessionOf[role],
        );
        const allowed = roleAllows(role, access as Permission);
        const refused = res.status === 403 && /your role in acme is/.test(res.body);
        if (allowed === refused || res.status === 401)
          mismatches.push(`${role} ${route.method} ${route.url}: ${res.status}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('answers 2xx or 403 per role on representative routes', async () => {
    const table: { method: Method; url: string; body?: unknown; allowed: Role[] }[] = [
      { method: 'GET', url: '/v1/tenants/acme/connectors', allowed: [...ROLES] },
      { method: 'GET', url: '/v1/tenants/acme/definitions', allowed: [...ROLES] },
      { method: 'GET', url: '/v1/tenants/acme/flags', allowed: [...ROLES] },
      {
        method: 'POST',
        url: '/v1/tenants/acme/connectors',
        body: () => ({ name: `site-${randomUUID()}` }),
        allowed: ['owner', 'admin', 'operator'],
      },
      {
        method: 'POST',
        url: '/v1/tenants/acme/tokens',
        body: () => ({ name: 'ci', role: 'viewer', kind: 'tenant' }),
        allowed: ['owner', 'admin'],
      },
    ];
    const got: string[] = [];
    const want: string[] = [];
    for (const row of table)
      for (const role of ROLES) {
        const body = typeof row.body === 'function' ? (row.body as () => unknown)() : row.body;
        const res = await api(row.method, row.url, body, sessionOf[role]);
        got.push(`${role} ${row.method} ${row.url}: ${res.status >= 200 && res.status < 300 ? '2xx' : res.status}`);
        want.push(`${role} ${row.method} ${row.url}: ${row.allowed.includes(role) ? '2xx' : 403}`);
      }
    expect(got).toEqual(want);
  });

  it('issues API tokens shown once, scoped by role, listed without secret, revocable', async () => {
    // An operator's personal viewer token reads but does not write.
    const made = await api<{ id: string; token: string; role: string }>(
      'POST',
      '/v1/tenants/acme/tokens',
      { name: 'laptop', role: 'viewer', expiresInDays: 7 },
      sessionOf.operator,
    );
    expect(made.status).toBe(201);
    expect(made.body.token).toMatch(/^vat_[0-9a-f]{32}_/);
    secrets.push(made.body.token);
    expect((await api('GET', '/v1/tenants/acme/connectors', undefined, made.body.token)).status).toBe(200);
    expect((await api('POST', '/v1/tenants/acme/connectors', { name: 'x-site' }, made.body.token)).status).toBe(403);
    // Bound to its tenant: it cannot make another tenant in the person's name.
    expect((await api('POST', '/v1/tenants', { id: 'sideways', name: 'Sideways' }, made.body.token)).status).toBe(403);
    // Tokens are made from a session: a token minting one would outlive its own expiry and revocation.
    expect(
      (
        await api(
          'POST',
          '/v1/tenants/acme/tokens',
          { name: 'child', role: 'viewer', expiresInDays: 365 },
          made.body.token,
        )
      ).status,
    ).toBe(403);
    // No more than the maker's role.
    expect(
      (await api('POST', '/v1/tenants/acme/tokens', { name: 'big', role: 'admin' }, sessionOf.operator)).status,
    ).toBe(403);
    // A tenant token of an owner, with the operator role, writes connectors; it cannot act outside its tenant.
    const ci = await api<{ id: string; token: string }>(
      'POST',
      '/v1/tenants/acme/tokens',
      { name: 'deploy', role: 'operator', kind: 'tenant' },
      sessionOf.owner,
    );
    secrets.push(ci.body.token);
    expect(
      (await api('POST', '/v1/tenants/acme/connectors', { name: `ci-${randomUUID()}` }, ci.body.token)).status,
    ).toBe(201);
    expect((await api('GET', '/v1/me', undefined, ci.body.token)).status).toBe(403);

    const listed = await api<{ tokens: { id: string }[] }>(
      'GET',
      '/v1/tenants/acme/tokens',
      undefined,
      sessionOf.owner,
    );
    expect(listed.status).toBe(200);
    expect(listed.body.tokens.map((t) => t.id)).toEqual(expect.arrayContaining([made.body.id, ci.body.id]));
    const text = JSON.stringify(listed.body);
    expect(text).not.toContain(made.body.token.slice(37));
    expect(text).not.toContain(ci.body.token.slice(37));
    expect(text).not.toContain('"token"');
    // The operator sees only their own.
    const own = await api<{ tokens: { id: string }[] }>(
      'GET',
      '/v1/tenants/acme/tokens',
      undefined,
      sessionOf.operator,
    );
    expect(own.body.tokens.map((t) => t.id)).toEqual([made.body.id]);

    // A viewer cannot revoke the operator's token; the operator can; it stops at once.
    expect((await api('DELETE', `/v1/tenants/acme/tokens/${made.body.id}`, undefined, sessionOf.viewer)).status).toBe(
      403,
    );
    const revoked = await api<{ revokedAt: string | null }>(
      'DELETE',
      `/v1/tenants/acme/tokens/${made.body.id}`,
      undefined,
      sessionOf.operator,
    );
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expect((await api('GET', '/v1/tenants/acme/connectors', undefined, made.body.token)).status).toBe(401);
  });

  it('stops an expired token', async () => {
    const made = await api<{ id: string; token: string }>(
      'POST',
      '/v1/tenants/acme/tokens',
      { name: 'short', role: 'viewer', expiresInDays: 1 },
      sessionOf.viewer,
    );
    secrets.push(made.body.token);
    expect((await api('GET', '/v1/tenants/acme/connectors', undefined, made.body.token)).status).toBe(200);
    await platform.gateway.db
      .updateTable('api_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', made.body.id)
      .execute();
    expect((await api('GET', '/v1/tenants/acme/connectors', undefined, made.body.token)).status).toBe(401);
  });

  it('audits every change a person made (who, when, from where), queryable and exportable as NDJSON', async () => {
    interface Event {
      operation: string;
      outcome: string;
      at: string;
      person: {
        principal: string;
        ip: string;
        userAgent?: string;
        status: number;
        role?: string;
        target?: Record<string, string>;
      };
    }
    const res = await platform.gateway.app.inject({
      method: 'POST',
      url: '/v1/tenants/acme/connectors',
      payload: { name: `audited-${randomUUID()}` },
      headers: { authorization: `Bearer ${sessionOf.operator}`, 'user-agent': 'console/1.0 (test)' },
      remoteAddress: '192.0.2.44',
    });
    expect(res.statusCode).toBe(201);
    const byOperator = await api<{ events: Event[] }>(
      'GET',
      `/v1/tenants/acme/audit?principal=user:${userIdOf.operator}&operation=${encodeURIComponent('POST /v1/tenants/:tenantId/connectors')}`,
      undefined,
      sessionOf.owner,
    );
    expect(byOperator.status).toBe(200);
    const latest = byOperator.body.events[0]!;
    expect(latest).toMatchObject({
      operation: 'POST /v1/tenants/:tenantId/connectors',
      outcome: 'ok',
      person: {
        principal: `user:${userIdOf.operator}`,
        ip: '192.0.2.44',
        userAgent: 'console/1.0 (test)',
        status: 201,
        role: 'operator',
      },
    });
    expect(Date.now() - Date.parse(latest.at)).toBeLessThan(120_000);
    expect(byOperator.body.events.every((e) => e.person.principal === `user:${userIdOf.operator}`)).toBe(true);

    // Member changes, token creation and refusals are there too; reads are not.
    const all = await api<{ events: Event[] }>('GET', '/v1/tenants/acme/audit?limit=1000', undefined, sessionOf.admin);
    const ops = new Set(all.body.events.map((e) => `${e.operation} ${e.outcome}`));
    expect(ops).toContain('POST /v1/bootstrap ok');
    expect(ops).toContain('POST /v1/tenants/:tenantId/members ok');
    expect(ops).toContain('PUT /v1/tenants/:tenantId/members/:userId ok');
    expect(ops).toContain('DELETE /v1/tenants/:tenantId/tokens/:tokenId ok');
    expect(ops).toContain('POST /v1/tenants/:tenantId/connectors refused');
    expect([...ops].some((o) => o.startsWith('GET '))).toBe(false);
    // Only owners and admins read it.
    expect((await api('GET', '/v1/tenants/acme/audit', undefined, sessionOf.operator)).status).toBe(403);
    // The gateway verifies the whole people chain: every record, hash-linked (owners and admins only).
    const verified = await api<{ ok: boolean; count: number }>(
      'GET',
      '/v1/tenants/acme/audit/verify',
      undefined,
      sessionOf.admin,
    );
    expect(verified.body).toMatchObject({ ok: true });
    expect(verified.body.count).toBeGreaterThanOrEqual(all.body.events.length);
    expect((await api('GET', '/v1/tenants/acme/audit/verify', undefined, sessionOf.operator)).status).toBe(403);

    const exported = await platform.gateway.app.inject({
      method: 'GET',
      url: `/v1/tenants/acme/audit/export?principal=user:${userIdOf.operator}`,
      headers: { authorization: `Bearer ${sessionOf.owner}` },
    });
    expect(exported.statusCode).toBe(200);
    expect(exported.headers['content-type']).toMatch(/application\/x-ndjson/);
    const lines = exported.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Event & { seq: number });
    const everyByOperator = await api<{ events: Event[] }>(
      'GET',
      `/v1/tenants/acme/audit?principal=user:${userIdOf.operator}&limit=1000`,
      undefined,
      sessionOf.owner,
    );
    expect(lines.length).toBe(everyByOperator.body.events.length);
    expect(lines.length).toBeGreaterThan(byOperator.body.events.length);
    // Oldest first, and the records are the people chain's, hash-linked.
    expect(lines.map((l) => l.seq)).toEqual([...lines.map((l) => l.seq)].sort((a, b) => a - b));
    expect(exported.body).not.toContain(passwords.get(ownerEmail)!);
  });

  it('keeps tenants apart: a member of tenant B gets 404 or 403 on every route of /openapi.json under tenant A', async () => {
    // B signs up through the owner of A adding them nowhere: B makes its own tenant and is its owner.
    const email = `b-owner-${randomUUID()}@example.com`;
    passwords.set(email, password());
    await api(
      'POST',
      '/v1/tenants/acme/members',
      { email, role: 'viewer', password: passwords.get(email) },
      sessionOf.owner,
    );
    const bSession = await signIn(email);
    expect((await api('POST', '/v1/tenants', { id: 'bravo', name: 'Bravo' }, bSession)).status).toBe(201);
    // Taking an existing tenant by naming it is refused.
    expect((await api('POST', '/v1/tenants', { id: 'acme', name: 'Mine now' }, bSession)).status).toBe(409);
    await api(
      'DELETE',
      `/v1/tenants/acme/members/${(await api<{ user: { id: string } }>('GET', '/v1/me', undefined, bSession)).body.user.id}`,
      undefined,
      sessionOf.owner,
    );
    const bToken = await api<{ token: string }>(
      'POST',
      '/v1/tenants/bravo/tokens',
      { name: 'b', role: 'owner', kind: 'tenant' },
      bSession,
    );
    expect(bToken.status).toBe(201);
    secrets.push(bToken.body.token);

    // Real ids of tenant A, so a refusal cannot come from "no such connector".
    const connector = await api<{ id: string }>('POST', '/v1/tenants/acme/connectors', { name: `a-${randomUUID()}` });
    const doc = (await api<{ paths: Record<string, Record<string, unknown>> }>('GET', '/openapi.json')).body;
    const values = {
      tenantId: 'acme',
      connectorId: connector.body.id,
      userId: userIdOf.owner!,
      database: 'sakila',
      definitionId: 'orders',
      runId: randomUUID(),
      workflowId: `sync-${randomUUID()}`,
      name: 'stripe.apiKey',
      apiId: 'stripe',
      version: '1',
      scheme: 'apiKey',
      tokenId: '0'.repeat(32),
      scheduleId: 'nightly',
    };
    const leaks: string[] = [];
    let walked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.includes('{tenantId}')) continue;
      for (const method of Object.keys(ops)) {
        const url = fillPath(path.replace(/\{(\w+)\}/g, ':$1'), values);
        for (const token of [bSession, bToken.body.token]) {
          walked++;
          const m = method.toUpperCase() as Method;
          const res = await raw(m, url, m === 'GET' || m === 'DELETE' ? undefined : {}, token);
          if (res.status !== 404 && res.status !== 403) leaks.push(`${m} ${path}: ${res.status}`);
        }
      }
    }
    expect(walked).toBeGreaterThan(100);
    expect(leaks).toEqual([]);
  });

  it('the admin token still works by default (existing tools), and no password or token reaches a log line', () => {
    const logs = platform.logs.lines.join('\n');
    expect(secrets.length).toBeGreaterThan(10);
    for (const secret of secrets) expect(logs).not.toContain(secret);
    // Refused sign-ins are logged (address, account, reason) for whoever watches the logs.
    expect(logs).toMatch(/sign-in refused/);
    // Token secrets alone (after the id) neither.
    for (const secret of secrets.filter((s) => /^v(ss|at)_/.test(s))) expect(logs).not.toContain(secret.slice(37));
  });
});

describe('the admin token turned off (VSC_ADMIN_TOKEN_DISABLED=true; real services)', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform({ gateway: { VSC_ADMIN_TOKEN_DISABLED: 'true' } });
  }, 120_000);
  afterAll(async () => platform?.close());

  it('refuses the admin token everywhere, the bootstrap included', async () => {
    expect((await platform.api('POST', '/v1/tenants', { id: 'acme', name: 'Acme' })).status).toBe(401);
    expect((await platform.api('GET', '/v1/tenants/acme/connectors')).status).toBe(401);
    const bootstrap = await platform.api('POST', '/v1/bootstrap', {
      email: 'first@example.com',
      password: 'a long enough password',
      tenantId: 'acme',
    });
    expect(bootstrap.status).toBe(401);
    // Public routes still answer.
    expect((await platform.api('GET', '/healthz')).status).toBe(200);
  });
});
