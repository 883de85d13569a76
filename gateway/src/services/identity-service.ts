import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import type { IdentityRepository, InvitationRow, MemberRole, Repositories, UserRow } from '@vansales/metadata';
import { GatewayError, GatewayErrorCode } from '../errors';
import { createAuthThrottle, type AuthThrottleSettings } from '../http/auth-throttle';
import { lesserRole, roleCovers, ROLES } from '../http/access';
import type { PeopleAuditWriter, PeopleEvent } from '../http/people-audit';

/**
 * argon2id with OWASP's first recommended setting (19 MiB, 2 passes, 1 lane): memory-hard, so a
 * stolen table of hashes costs an attacker memory per guess, not just a fast hash.
 */
// 2 is Algorithm.Argon2id (a const enum, which isolated modules cannot read).
const ARGON2 = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** A hash of a password nobody has, verified when the address is unknown so both cases take as long. */
let decoyHash: Promise<string> | undefined;

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

/** Token kinds by prefix: a session (sign-in) or an API token. */
export const TokenPrefix = { session: 'vss', api: 'vat' } as const;
type TokenKind = keyof typeof TokenPrefix;

/** `<prefix>_<id: 32 hex>_<secret: 43 base64url>`: the id finds the row, the secret's hash is compared. */
const TOKEN_PATTERN = /^(vss|vat)_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;
/** An invitation's token: the same shape, its own prefix, so it never passes for a credential. */
export const INVITATION_PREFIX = 'vin';
const INVITATION_PATTERN = /^vin_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

const sha256 = (s: string) => createHash('sha256').update(s).digest();

function mintSecret(prefix: string): { id: string; token: string; hash: Buffer } {
  const id = randomBytes(16).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `${prefix}_${id}_${secret}`, hash: sha256(secret) };
}
const mintToken = (kind: TokenKind) => mintSecret(TokenPrefix[kind]);

export function parseToken(token: string): { kind: TokenKind; id: string; secret: string } | undefined {
  const m = TOKEN_PATTERN.exec(token);
  if (!m) return undefined;
  return { kind: m[1] === TokenPrefix.session ? 'session' : 'api', id: m[2]!, secret: m[3]! };
}

/** Who a session or API token stands for; the auth hook adds the role it has in the path's tenant. */
export type PersonCredential =
  | { kind: 'person'; userId: string; sessionId: string }
  | { kind: 'person'; userId: string; tokenId: string; tokenTenantId: string; tokenRole: MemberRole }
  | { kind: 'tenant-token'; tokenId: string; tenantId: string; role: MemberRole };

/** Where a change came from, for the audit. */
export interface Origin {
  ip: string;
  userAgent?: string;
}

export interface IdentitySettings {
  sessionTtlMs: number;
  /** Failed sign-ins per account before 429 (a lockout of that account for the window). */
  signInThrottle: AuthThrottleSettings;
  /** Failed sign-ins per source address before 429: higher, as many people may share one address. */
  signInSourceThrottle: AuthThrottleSettings;
  /** Longest API token lifetime a caller may ask for, in days. */
  maxTokenDays: number;
  /** How long an invitation may wait for its acceptance when the inviter names no lifetime, in days. */
  invitationDays: number;
}

export const DEFAULT_IDENTITY_SETTINGS: IdentitySettings = {
  sessionTtlMs: 12 * 3600_000,
  signInThrottle: { failuresPerWindow: 5, windowMs: 15 * 60_000 },
  signInSourceThrottle: { failuresPerWindow: 50, windowMs: 15 * 60_000 },
  maxTokenDays: 365,
  invitationDays: 7,
};

/** How a person proved who they are, as the people audit names it. */
export type SignInMethod = 'password' | `sso:${string}`;

const normaliseEmail = (email: string) => email.trim().toLowerCase();

export function createIdentityService(deps: {
  identity: IdentityRepository;
  repos: Repositories;
  settings?: Partial<IdentitySettings>;
  now?: () => number;
  /** The people chains: sign-ins, password changes and invitations are written there. */
  audit?: PeopleAuditWriter;
}) {
  const { identity, repos } = deps;
  const audit: PeopleAuditWriter = deps.audit ?? (async () => undefined);
  const settings = { ...DEFAULT_IDENTITY_SETTINGS, ...deps.settings };
  const now = deps.now ?? Date.now;
  const accountThrottle = createAuthThrottle(settings.signInThrottle, now);
  const sourceThrottle = createAuthThrottle(settings.signInSourceThrottle, now);

  const hashPassword = (password: string) => argon2Hash(password, ARGON2);

  const createUser = async (input: { email: string; password: string; displayName?: string }): Promise<UserRow> => {
    const email = normaliseEmail(input.email);
    const id = randomUUID();
    const created = await identity.createUser({
      id,
      email,
      displayName: input.displayName ?? email,
      passwordHash: await hashPassword(input.password),
    });
    if (!created) throw new GatewayError(GatewayErrorCode.conflict, `an account with the address ${email} exists`);
    return (await identity.getUser(id))!;
  };

  const checkSecret = (stored: Buffer, secret: string) => timingSafeEqual(stored, sha256(secret));

  const requireMember = async (tenantId: string, userId: string) => {
    const role = await identity.memberRole(tenantId, userId);
    if (!role) throw new GatewayError(GatewayErrorCode.notFound, `no member ${userId} in tenant ${tenantId}`);
    return role;
  };

  const tenantsOf = async (userId: string) => (await identity.memberships(userId)).map((m) => m.tenantId);

  /**
   * A sign-in, good or refused, in the people chain of each tenant the account belongs to: who,
   * from where, how, and why it was refused; never the password. Nobody's (an unknown address) is
   * in no tenant's chain, only the log.
   */
  const auditSignIn = async (
    user: { id: string } | undefined,
    method: SignInMethod,
    origin: Origin,
    refused?: { status: number; reason: string },
  ) => {
    if (!user) return;
    await audit(await tenantsOf(user.id), {
      principal: `user:${user.id}`,
      operation: 'sign-in',
      outcome: refused ? 'refused' : 'ok',
      status: refused?.status ?? 201,
      ip: origin.ip,
      userAgent: origin.userAgent,
      target: { method },
      errorType: refused?.reason,
    });
  };

  /** Counts an attempt at an account's password before it is checked (see signIn); 429 while locked. */
  const gatePasswordAttempt = (email: string, origin: Origin) => {
    const account = [`account:${email}`];
    const source = [`source:${origin.ip}`];
    const waitMs = Math.max(accountThrottle.retryAfterMs(account), sourceThrottle.retryAfterMs(source));
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      throw new GatewayError(
        GatewayErrorCode.tooManyRequests,
        `too many failed sign-ins for this account or from this address; try again in ${seconds} s`,
        { retryAfterSeconds: seconds },
      );
    }
    // Counted as a failure before the password is checked, and forgiven if it was right: a burst of
    // parallel guesses would otherwise all pass the gate above before the first one failed.
    accountThrottle.recordFailure(account);
    sourceThrottle.recordFailure(source);
    return {
      forgive: () => {
        accountThrottle.forgive(account);
        sourceThrottle.forgive(source);
      },
    };
  };

  /** A well-formed invitation token whose secret matches a stored invitation still open, or a clear refusal. */
  const openInvitation = async (token: string): Promise<InvitationRow> => {
    const m = INVITATION_PATTERN.exec(token);
    const found = m ? await identity.findInvitation(m[1]!) : undefined;
    if (!found || !timingSafeEqual(found.hash, sha256(m![2]!)))
      throw new GatewayError(GatewayErrorCode.notFound, 'this invitation is unknown: ask for a new one');
    if (found.revokedAt || found.acceptedAt || found.expiresAt.getTime() <= now())
      throw new GatewayError(
        GatewayErrorCode.gone,
        `this invitation was ${found.revokedAt ? 'revoked' : found.acceptedAt ? 'used already' : 'left to expire'}: ask an owner or admin of ${found.tenantId} for a new one`,
      );
    return found;
  };

  /** An acceptance (or a refused one) in the inviting tenant's people chain. */
  const auditAccept = (
    invitation: InvitationRow,
    user: UserRow,
    origin: Origin,
    outcome: Pick<PeopleEvent, 'outcome' | 'status' | 'role' | 'errorType'>,
  ) =>
    audit([invitation.tenantId], {
      principal: `user:${user.id}`,
      operation: 'POST /v1/invitations/accept',
      ip: origin.ip,
      userAgent: origin.userAgent,
      target: { invitationId: invitation.id, tenantId: invitation.tenantId },
      ...outcome,
    });

  /** Makes the person a member through the invitation (used up in the same transaction). */
  const joinThrough = async (invitation: InvitationRow, user: UserRow, origin: Origin) => {
    const outcome = await identity.acceptInvitation(invitation.id, user.id);
    if (outcome === 'member')
      throw new GatewayError(GatewayErrorCode.conflict, `you are a member of ${invitation.tenantId} already`);
    if (outcome === 'gone')
      throw new GatewayError(GatewayErrorCode.gone, 'this invitation was used, revoked or expired meanwhile');
    await auditAccept(invitation, user, origin, { outcome: 'ok', status: 200, role: invitation.role });
    return { tenantId: invitation.tenantId, role: invitation.role, userId: user.id, email: user.email };
  };

  /** A session token for a person who proved who they are (password or identity provider). */
  const openSession = async (user: UserRow, origin: Origin) => {
    const minted = mintToken('session');
    const expiresAt = new Date(now() + settings.sessionTtlMs);
    await identity.createSession({
      id: minted.id,
      hash: minted.hash,
      userId: user.id,
      expiresAt,
      ip: origin.ip,
      userAgent: origin.userAgent?.slice(0, 256),
    });
    return {
      token: minted.token,
      sessionId: minted.id,
      expiresAt,
      user: { id: user.id, email: user.email, displayName: user.displayName },
    };
  };

  return {
    settings,
    signInStats: () => ({ accounts: accountThrottle.stats(), sources: sourceThrottle.stats() }),

    /**
     * The first owner, with the admin token: refused once any account exists, so the admin token
     * cannot mint owners afterwards (members are added by owners and admins).
     */
    async bootstrap(input: {
      email: string;
      password: string;
      displayName?: string;
      tenantId: string;
      tenantName?: string;
    }) {
      if ((await identity.countUsers()) > 0)
        throw new GatewayError(
          GatewayErrorCode.conflict,
          'the first owner exists already: owners and admins add people through /v1/tenants/:tenantId/members',
        );
      const tenant = await repos.upsertTenant({ id: input.tenantId, name: input.tenantName ?? input.tenantId });
      const user = await createUser(input);
      await identity.putMember(tenant.id, user.id, 'owner');
      return { user, tenant, role: 'owner' as const };
    },

    /** Answers a session token, or throws 401 (wrong address or password alike) or 429 (too many failures). */
    async signIn(input: { email: string; password: string }, origin: Origin) {
      const email = normaliseEmail(input.email);
      // A locked account's attempts are not audited one by one: no password was checked, and a
      // flood of them would otherwise flood the tenants' chains (the log has them).
      const attempt = gatePasswordAttempt(email, origin);
      const user = await identity.findUserByEmail(email);
      decoyHash ??= hashPassword(randomBytes(24).toString('base64url'));
      const ok = user
        ? await argon2Verify(user.passwordHash, input.password)
        : (await argon2Verify(await decoyHash, input.password), false);
      if (!user || !ok || user.disabled) {
        await auditSignIn(user, 'password', origin, {
          status: 401,
          reason: user?.disabled && ok ? 'account-disabled' : 'bad-credentials',
        });
        throw new GatewayError(GatewayErrorCode.unauthorized, 'the email address or the password is wrong', {
          reason: 'bad-credentials',
        });
      }
      attempt.forgive();
      await auditSignIn(user, 'password', origin);
      return openSession(user, origin);
    },

    /**
     * Signs in a person whose address an identity provider verified (single sign-on): the account
     * with that address, or a new one without a usable password (they sign in through the provider).
     */
    async signInVerified(input: { email: string; displayName?: string; provider: string }, origin: Origin) {
      const email = normaliseEmail(input.email);
      let user: UserRow | undefined = await identity.findUserByEmail(email);
      // Nobody knows this password: the account signs in through its provider only.
      user ??= await createUser({
        email,
        password: randomBytes(32).toString('base64url'),
        displayName: input.displayName,
      }).catch(
        // Two first sign-ins at once: the other one created it.
        async (err: unknown): Promise<UserRow> => {
          const raced = await identity.findUserByEmail(email);
          if (!raced) throw err;
          return raced;
        },
      );
      const method: SignInMethod = `sso:${input.provider}`;
      if (user.disabled) {
        await auditSignIn(user, method, origin, { status: 403, reason: 'account-disabled' });
        throw new GatewayError(GatewayErrorCode.forbidden, 'this account is disabled');
      }
      await auditSignIn(user, method, origin);
      return openSession(user, origin);
    },

    /** A sign-in through a provider refused after the provider named the address (its account's tenants see it). */
    async auditRefusedVerified(email: string, provider: string, origin: Origin, status: number, reason: string) {
      await auditSignIn(await identity.findUserByEmail(normaliseEmail(email)), `sso:${provider}`, origin, {
        status,
        reason,
      });
    },

    /**
     * A new password for the signed-in person: the current one is checked under the sign-in lockout
     * (a stolen session cannot guess it faster than a sign-in could), and every other session of
     * theirs ends (whoever else held one is out). Audited in each of their tenants.
     */
    async changePassword(
      caller: { userId: string; sessionId: string },
      input: { current: string; next: string },
      origin: Origin,
    ) {
      const user = await identity.getUser(caller.userId);
      const stored = await identity.passwordHashOf(caller.userId);
      if (!user || !stored) throw new GatewayError(GatewayErrorCode.unauthorized, 'the account is gone');
      const attempt = gatePasswordAttempt(user.email, origin);
      const event = {
        principal: `user:${user.id}`,
        operation: 'PUT /v1/me/password',
        ip: origin.ip,
        userAgent: origin.userAgent,
      };
      if (!(await argon2Verify(stored, input.current))) {
        await audit(await tenantsOf(user.id), { ...event, outcome: 'refused', status: 403, errorType: 'bad-password' });
        throw new GatewayError(GatewayErrorCode.forbidden, 'the current password is wrong', {
          reason: 'bad-password',
        });
      }
      attempt.forgive();
      if (input.next === input.current)
        throw new GatewayError(GatewayErrorCode.badRequest, 'the new password is the current one: choose another');
      await identity.setPasswordHash(user.id, await hashPassword(input.next));
      const endedSessions = await identity.revokeSessionsOf(user.id, caller.sessionId);
      await audit(await tenantsOf(user.id), {
        ...event,
        outcome: 'ok',
        status: 200,
        target: { endedSessions: String(endedSessions) },
      });
      return { endedSessions };
    },

    /**
     * An invitation to the tenant for an address with a role, its token shown once. Only an owner
     * invites an owner. The address may have an account already (it accepts with its own session)
     * or not (the person creates it with the token).
     */
    async invite(
      tenantId: string,
      input: { email: string; role: MemberRole; expiresInDays?: number },
      caller: { label: string; role: MemberRole },
    ) {
      if (input.role === 'owner' && caller.role !== 'owner')
        throw new GatewayError(GatewayErrorCode.forbidden, 'only an owner can invite an owner');
      const email = normaliseEmail(input.email);
      const existing = await identity.findUserByEmail(email);
      if (existing && (await identity.memberRole(tenantId, existing.id)))
        throw new GatewayError(GatewayErrorCode.conflict, `${email} is a member already: change their role instead`);
      const minted = mintSecret(INVITATION_PREFIX);
      const row = await identity.createInvitation({
        id: minted.id,
        hash: minted.hash,
        tenantId,
        email,
        role: input.role,
        createdBy: caller.label,
        expiresAt: new Date(now() + (input.expiresInDays ?? settings.invitationDays) * 86_400_000),
      });
      return { ...row, token: minted.token };
    },

    listInvitations: (tenantId: string) => identity.listInvitations(tenantId),

    async revokeInvitation(tenantId: string, invitationId: string) {
      const found = await identity.getInvitation(tenantId, invitationId);
      if (!found)
        throw new GatewayError(GatewayErrorCode.notFound, `no invitation ${invitationId} in tenant ${tenantId}`);
      if (found.acceptedAt)
        throw new GatewayError(
          GatewayErrorCode.conflict,
          'this invitation was accepted already: remove the member instead',
        );
      await identity.revokeInvitation(tenantId, invitationId);
      return (await identity.getInvitation(tenantId, invitationId))!;
    },

    /**
     * Accepts an invitation as the signed-in person: the account's address must be the invited one
     * (an invitation forwarded to someone else is worth nothing to them). How an existing account,
     * local or single sign-on, joins another tenant: on its own say-so, never a tenant admin's.
     */
    async acceptInvitation(token: string, userId: string, origin: Origin) {
      const invitation = await openInvitation(token);
      const user = await identity.getUser(userId);
      if (!user) throw new GatewayError(GatewayErrorCode.unauthorized, 'the account is gone');
      if (user.email !== invitation.email) {
        // The inviting tenant sees who tried its invitation with another account (a forwarded or leaked token).
        await auditAccept(invitation, user, origin, { outcome: 'refused', status: 403, errorType: 'other-address' });
        throw new GatewayError(
          GatewayErrorCode.forbidden,
          'this invitation is for another address: sign in with the invited account to accept it',
        );
      }
      return joinThrough(invitation, user, origin);
    },

    /**
     * A new person accepts by creating their account with the token (the invited address, a password
     * of their choosing) and is signed in. An address with an account is refused: it signs in and
     * accepts (nobody sets the password of an account that exists).
     */
    async registerWithInvitation(input: { token: string; password: string; displayName?: string }, origin: Origin) {
      const invitation = await openInvitation(input.token);
      if (await identity.findUserByEmail(invitation.email))
        throw new GatewayError(
          GatewayErrorCode.conflict,
          `an account with the address ${invitation.email} exists: sign in with it and accept the invitation (POST /v1/invitations/accept)`,
        );
      const user = await createUser({
        email: invitation.email,
        password: input.password,
        displayName: input.displayName,
      });
      const membership = await joinThrough(invitation, user, origin);
      return { ...(await openSession(user, origin)), membership };
    },

    signOut: (sessionId: string) => identity.revokeSession(sessionId),

    /** Resolves a session or API token; undefined when it is not one of ours, is revoked, expired or forged. */
    async authenticate(token: string): Promise<PersonCredential | undefined> {
      const parsed = parseToken(token);
      if (!parsed) return undefined;
      const row =
        parsed.kind === 'session' ? await identity.findSession(parsed.id) : await identity.findApiToken(parsed.id);
      if (!row || !checkSecret(row.hash, parsed.secret)) return undefined;
      if (row.revoked || row.userDisabled || row.expiresAt.getTime() <= now()) return undefined;
      if (parsed.kind === 'session') return { kind: 'person', userId: row.userId!, sessionId: parsed.id };
      void identity.touchApiToken(parsed.id).catch(() => undefined);
      if (!row.userId) return { kind: 'tenant-token', tokenId: parsed.id, tenantId: row.tenantId!, role: row.role! };
      return {
        kind: 'person',
        userId: row.userId,
        tokenId: parsed.id,
        tokenTenantId: row.tenantId!,
        tokenRole: row.role!,
      };
    },

    /**
     * The role a credential has in a tenant: a session the person's membership; a person's token
     * the lesser of its role and the person's current one; a tenant token its own, in its tenant only.
     */
    async roleIn(credential: PersonCredential, tenantId: string): Promise<MemberRole | undefined> {
      if (credential.kind === 'tenant-token') return credential.tenantId === tenantId ? credential.role : undefined;
      if ('tokenId' in credential && credential.tokenTenantId !== tenantId) return undefined;
      const role = await identity.memberRole(tenantId, credential.userId);
      if (!role) return undefined;
      return 'tokenId' in credential ? lesserRole(role, credential.tokenRole) : role;
    },

    async me(userId: string) {
      const user = await identity.getUser(userId);
      if (!user) throw new GatewayError(GatewayErrorCode.unauthorized, 'the account is gone');
      return { user, memberships: await identity.memberships(userId) };
    },

    /** A tenant made by a person: they become its owner; an existing id is a conflict (never joined by naming it). */
    async createTenantAsOwner(input: { id: string; name: string }, userId: string) {
      // The insert is the check: a read first let two people creating one id at once both become owner.
      if (!(await repos.createTenant(input)))
        throw new GatewayError(GatewayErrorCode.conflict, `the tenant id ${input.id} is taken; choose another`);
      await identity.putMember(input.id, userId, 'owner');
      return { id: input.id, name: input.name };
    },

    listMembers: (tenantId: string) => identity.listMembers(tenantId),

    /**
     * Adds a person by address: an existing account joins; a new address needs an initial password
     * (the person changes it later). Only an owner makes owners.
     */
    async addMember(
      tenantId: string,
      input: { email: string; role: MemberRole; password?: string; displayName?: string },
      actorRole: MemberRole,
    ) {
      if (input.role === 'owner' && actorRole !== 'owner')
        throw new GatewayError(GatewayErrorCode.forbidden, 'only an owner can make another owner');
      // The admin token passes the role check for any tenant id: an unknown one is a 404 before an
      // account is made (the membership's foreign key failed after the account existed: a 500 and an orphan).
      if (!(await repos.getTenant(tenantId)))
        throw new GatewayError(GatewayErrorCode.notFound, `tenant ${tenantId} does not exist`);
      const email = normaliseEmail(input.email);
      const existing: UserRow | undefined = await identity.findUserByEmail(email);
      if (existing && (await identity.memberRole(tenantId, existing.id)))
        throw new GatewayError(GatewayErrorCode.conflict, `${email} is a member already: change their role instead`);
      // An existing account never joins on another tenant's say-so: whoever created it (any tenant's
      // admin, with a password of their choosing) could otherwise sign in as it inside this tenant once
      // its owner adds the address. People join a second tenant by accepting an invitation with their
      // own session (acceptInvitation), which proves they hold the account; here the address is refused.
      if (existing)
        throw new GatewayError(
          GatewayErrorCode.conflict,
          `an account with the address ${email} exists already: invite it instead (POST /v1/tenants/${tenantId}/invitations); the person accepts with their own session`,
        );
      if (!input.password)
        throw new GatewayError(
          GatewayErrorCode.notFound,
          `no account with the address ${email}: give an initial password to create one`,
        );
      const user = await createUser({ email, password: input.password, displayName: input.displayName });
      await identity.putMember(tenantId, user.id, input.role);
      return { tenantId, userId: user.id, email: user.email, displayName: user.displayName, role: input.role };
    },

    /** A new role, or removal (`null`); owners are changed by owners only, and the last owner stays. */
    async changeMember(tenantId: string, userId: string, role: MemberRole | null, actorRole: MemberRole) {
      const current = await requireMember(tenantId, userId);
      if ((current === 'owner' || role === 'owner') && actorRole !== 'owner')
        throw new GatewayError(GatewayErrorCode.forbidden, 'only an owner can change or remove an owner, or make one');
      const outcome = await identity.changeMember(tenantId, userId, role);
      if (outcome === 'not-member')
        throw new GatewayError(GatewayErrorCode.notFound, `no member ${userId} in tenant ${tenantId}`);
      if (outcome === 'last-owner')
        throw new GatewayError(
          GatewayErrorCode.conflict,
          "this is the tenant's last owner: make another member owner first",
        );
      // A tenant token outlives no standing of its maker: it is revoked unless they could still make
      // it now (owners and admins make tenant tokens, up to their own role). See the README.
      const keep = role && (role === 'owner' || role === 'admin') ? ROLES.filter((r) => roleCovers(role, r)) : [];
      const revokedTokens =
        role === 'owner' ? [] : await identity.revokeTenantTokensBy(tenantId, `user:${userId}`, keep);
      return { tenantId, userId, role, previousRole: current, revokedTokens };
    },

    /**
     * A token, shown once: a person's own (capped by their role, now and at every use), or the
     * tenant's (no person; members:write only). Its role may not exceed the caller's.
     */
    async createToken(
      tenantId: string,
      input: { name: string; role: MemberRole; expiresInDays: number; kind: 'personal' | 'tenant' },
      caller: { userId?: string; label: string; role: MemberRole; apiToken?: boolean },
    ) {
      // A token minted by a token would outlive it: its expiry, its revocation and (a tenant token) its
      // person's removal; so a leaked token could keep itself alive. Tokens are made from a session.
      if (caller.apiToken)
        throw new GatewayError(
          GatewayErrorCode.forbidden,
          'an API token cannot make tokens; sign in (POST /v1/sessions) and make it with the session',
        );
      if (input.expiresInDays > settings.maxTokenDays)
        throw new GatewayError(GatewayErrorCode.badRequest, `tokens live at most ${settings.maxTokenDays} days`);
      if (!roleCovers(caller.role, input.role))
        throw new GatewayError(
          GatewayErrorCode.forbidden,
          `a ${caller.role} cannot make a token with the role ${input.role}`,
        );
      if (input.kind === 'personal' && !caller.userId)
        throw new GatewayError(GatewayErrorCode.badRequest, 'a personal token needs a signed-in person');
      if (input.kind === 'tenant' && caller.role !== 'owner' && caller.role !== 'admin')
        throw new GatewayError(GatewayErrorCode.forbidden, 'tenant tokens are made by owners and admins');
      const minted = mintToken('api');
      const row = await identity.createApiToken({
        id: minted.id,
        hash: minted.hash,
        tenantId,
        userId: input.kind === 'personal' ? caller.userId! : null,
        name: input.name,
        role: input.role,
        createdBy: caller.label,
        expiresAt: new Date(now() + input.expiresInDays * 86_400_000),
      });
      return { ...row, token: minted.token };
    },

    /**
     * How runs and flags name who acted, for people to read: `user:<id>` as the member's email,
     * `token:<id>` as `token <name>`, anything else (`admin`, `admin:<label>`, a schedule) as
     * recorded. Tenant-scoped: a person who is not a member of `tenantId` (another tenant's, or
     * one removed since) keeps the recorded id. One query per kind for a whole page.
     */
    async actorLabels(tenantId: string, actors: readonly (string | null)[]): Promise<Map<string, string>> {
      const ids = (prefix: string) => [
        ...new Set(actors.filter((a): a is string => !!a?.startsWith(prefix)).map((a) => a.slice(prefix.length))),
      ];
      const { emails, tokens } = await identity.actorNames(tenantId, ids('user:'), ids('token:'));
      const out = new Map<string, string>();
      for (const [id, email] of emails) out.set(`user:${id}`, email);
      for (const [id, name] of tokens) out.set(`token:${id}`, `token ${name}`);
      return out;
    },

    /** Owners and admins see every token of the tenant; others their own. Never a secret. */
    async listTokens(tenantId: string, caller: { userId?: string; role: MemberRole }) {
      const all = await identity.listApiTokens(tenantId);
      if (caller.role === 'owner' || caller.role === 'admin') return all;
      return all.filter((t) => caller.userId !== undefined && t.userId === caller.userId);
    },

    async revokeToken(tenantId: string, tokenId: string, caller: { userId?: string; role: MemberRole }) {
      const token = await identity.getApiToken(tenantId, tokenId);
      if (!token) throw new GatewayError(GatewayErrorCode.notFound, `no token ${tokenId} in tenant ${tenantId}`);
      const own = caller.userId !== undefined && token.userId === caller.userId;
      if (!own && caller.role !== 'owner' && caller.role !== 'admin')
        throw new GatewayError(GatewayErrorCode.forbidden, 'only owners and admins revoke tokens of others');
      await identity.revokeApiToken(tenantId, tokenId);
      return { ...token, revokedAt: token.revokedAt ?? new Date(now()) };
    },
  };
}
export type IdentityService = ReturnType<typeof createIdentityService>;

declare module 'fastify' {
  interface FastifyInstance {
    identity: IdentityService;
  }
}

export const identityServicePlugin = fp<Parameters<typeof createIdentityService>[0]>(
  async (app, deps) => void app.decorate('identity', createIdentityService(deps)),
  { name: 'identity-service', fastify: '5.x' },
);
