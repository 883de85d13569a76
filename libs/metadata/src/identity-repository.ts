import type { MetadataDb } from './open-database';
import type { MemberRole } from './schema';

export type { MemberRole } from './schema';

export interface UserRow {
  id: string;
  email: string;
  displayName: string;
  createdAt: Date;
  disabled: boolean;
}

export interface MemberRow {
  tenantId: string;
  userId: string;
  email: string;
  displayName: string;
  role: MemberRole;
  createdAt: Date;
}

/** A token as listed: everything but its secret (which is not stored anyway). */
export interface ApiTokenRow {
  id: string;
  tenantId: string;
  userId: string | null;
  name: string;
  role: MemberRole;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

/** What the auth hook needs of a session or token: its hash to compare, and whether it still holds. */
export interface CredentialCheckRow {
  hash: Buffer;
  userId: string | null;
  tenantId: string | null;
  role: MemberRole | null;
  expiresAt: Date;
  revoked: boolean;
  userDisabled: boolean;
}

/** An invitation as listed: everything but its secret (which is not stored anyway). */
export interface InvitationRow {
  id: string;
  tenantId: string;
  email: string;
  role: MemberRole;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  acceptedAt: Date | null;
  acceptedBy: string | null;
  revokedAt: Date | null;
}

/** A single sign-on in progress, as the callback needs it. */
export interface SsoStateRow {
  provider: string;
  nonce: string;
  verifier: string;
  expiresAt: Date;
}

const INVITATION_COLUMNS = [
  'id',
  'tenant_id',
  'email',
  'role',
  'created_by',
  'created_at',
  'expires_at',
  'accepted_at',
  'accepted_by',
  'revoked_at',
] as const;

const invitationOf = (r: {
  id: string;
  tenant_id: string;
  email: string;
  role: MemberRole;
  created_by: string;
  created_at: Date;
  expires_at: Date;
  accepted_at: Date | null;
  accepted_by: string | null;
  revoked_at: Date | null;
}): InvitationRow => ({
  id: r.id,
  tenantId: r.tenant_id,
  email: r.email,
  role: r.role,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at),
  expiresAt: new Date(r.expires_at),
  acceptedAt: r.accepted_at && new Date(r.accepted_at),
  acceptedBy: r.accepted_by,
  revokedAt: r.revoked_at && new Date(r.revoked_at),
});

const userOf = (r: {
  id: string;
  email: string;
  display_name: string;
  created_at: Date;
  disabled_at: Date | null;
}) => ({
  id: r.id,
  email: r.email,
  displayName: r.display_name,
  createdAt: new Date(r.created_at),
  disabled: r.disabled_at !== null,
});

const tokenOf = (r: {
  id: string;
  tenant_id: string;
  user_id: string | null;
  name: string;
  role: MemberRole;
  created_by: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}): ApiTokenRow => ({
  id: r.id,
  tenantId: r.tenant_id,
  userId: r.user_id,
  name: r.name,
  role: r.role,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at),
  expiresAt: new Date(r.expires_at),
  revokedAt: r.revoked_at && new Date(r.revoked_at),
  lastUsedAt: r.last_used_at && new Date(r.last_used_at),
});

const TOKEN_COLUMNS = [
  'id',
  'tenant_id',
  'user_id',
  'name',
  'role',
  'created_by',
  'created_at',
  'expires_at',
  'revoked_at',
  'last_used_at',
] as const;

/**
 * Users, sessions, memberships and API tokens. Every membership and token read names its tenant
 * (the tenant_id predicate is how tenants are kept apart in this store).
 */
export function createIdentityRepository(db: MetadataDb) {
  return {
    async countUsers(): Promise<number> {
      const row = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Creates a user; false when the address is taken. */
    async createUser(u: { id: string; email: string; displayName: string; passwordHash: string }): Promise<boolean> {
      const r = await db
        .insertInto('users')
        .values({ id: u.id, email: u.email, display_name: u.displayName, password_hash: u.passwordHash })
        .onConflict((oc) => oc.column('email').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    async findUserByEmail(email: string): Promise<(UserRow & { passwordHash: string }) | undefined> {
      const r = await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
      return r && { ...userOf(r), passwordHash: r.password_hash };
    },

    async getUser(id: string): Promise<UserRow | undefined> {
      const r = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return r && userOf(r);
    },

    async createSession(s: {
      id: string;
      hash: Buffer;
      userId: string;
      expiresAt: Date;
      ip?: string;
      userAgent?: string;
    }): Promise<void> {
      await db
        .insertInto('user_sessions')
        .values({
          id: s.id,
          hash: s.hash,
          user_id: s.userId,
          expires_at: s.expiresAt,
          ip: s.ip ?? null,
          user_agent: s.userAgent ?? null,
        })
        .execute();
    },

    async findSession(id: string): Promise<CredentialCheckRow | undefined> {
      const r = await db
        .selectFrom('user_sessions as s')
        .innerJoin('users as u', 'u.id', 's.user_id')
        .select(['s.hash', 's.user_id', 's.expires_at', 's.revoked_at', 'u.disabled_at'])
        .where('s.id', '=', id)
        .executeTakeFirst();
      return (
        r && {
          hash: Buffer.from(r.hash),
          userId: r.user_id,
          tenantId: null,
          role: null,
          expiresAt: new Date(r.expires_at),
          revoked: r.revoked_at !== null,
          userDisabled: r.disabled_at !== null,
        }
      );
    },

    async passwordHashOf(userId: string): Promise<string | undefined> {
      const r = await db.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirst();
      return r?.password_hash;
    },

    async setPasswordHash(userId: string, passwordHash: string): Promise<void> {
      await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
    },

    /** Ends every open session of the person but `keepSessionId`; how many were ended. */
    async revokeSessionsOf(userId: string, keepSessionId?: string): Promise<number> {
      let q = db
        .updateTable('user_sessions')
        .set({ revoked_at: new Date() })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null);
      if (keepSessionId) q = q.where('id', '!=', keepSessionId);
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows);
    },

    async revokeSession(id: string): Promise<void> {
      await db
        .updateTable('user_sessions')
        .set({ revoked_at: new Date() })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
    },

    async memberRole(tenantId: string, userId: string): Promise<MemberRole | undefined> {
      const r = await db
        .selectFrom('tenant_members')
        .select('role')
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return r?.role;
    },

    async memberships(userId: string): Promise<{ tenantId: string; role: MemberRole }[]> {
      const rows = await db
        .selectFrom('tenant_members')
        .select(['tenant_id', 'role'])
        .where('user_id', '=', userId)
        .orderBy('tenant_id')
        .execute();
      return rows.map((r) => ({ tenantId: r.tenant_id, role: r.role }));
    },

    async listMembers(tenantId: string): Promise<MemberRow[]> {
      const rows = await db
        .selectFrom('tenant_members as m')
        .innerJoin('users as u', 'u.id', 'm.user_id')
        .select(['m.tenant_id', 'm.user_id', 'm.role', 'm.created_at', 'u.email', 'u.display_name'])
        .where('m.tenant_id', '=', tenantId)
        .orderBy('u.email')
        .execute();
      return rows.map((r) => ({
        tenantId: r.tenant_id,
        userId: r.user_id,
        email: r.email,
        displayName: r.display_name,
        role: r.role,
        createdAt: new Date(r.created_at),
      }));
    },

    /** Adds the member or changes their role. */
    async putMember(tenantId: string, userId: string, role: MemberRole): Promise<void> {
      await db
        .insertInto('tenant_members')
        .values({ tenant_id: tenantId, user_id: userId, role })
        .onConflict((oc) => oc.columns(['tenant_id', 'user_id']).doUpdateSet({ role }))
        .execute();
    },

    /**
     * Changes a member (a new role, or removal with `null`) unless that would leave the tenant
     * without an owner: the check and the change are one transaction holding the tenant's owners.
     * Returns 'not-member', 'last-owner' or 'ok'.
     */
    async changeMember(
      tenantId: string,
      userId: string,
      role: MemberRole | null,
    ): Promise<'ok' | 'not-member' | 'last-owner'> {
      return db.transaction().execute(async (trx) => {
        const owners = await trx
          .selectFrom('tenant_members')
          .select('user_id')
          .where('tenant_id', '=', tenantId)
          .where('role', '=', 'owner')
          .forUpdate()
          .execute();
        const current = await trx
          .selectFrom('tenant_members')
          .select('role')
          .where('tenant_id', '=', tenantId)
          .where('user_id', '=', userId)
          .executeTakeFirst();
        if (!current) return 'not-member';
        if (current.role === 'owner' && role !== 'owner' && owners.length <= 1) return 'last-owner';
        if (role === null)
          await trx
            .deleteFrom('tenant_members')
            .where('tenant_id', '=', tenantId)
            .where('user_id', '=', userId)
            .execute();
        else
          await trx
            .updateTable('tenant_members')
            .set({ role })
            .where('tenant_id', '=', tenantId)
            .where('user_id', '=', userId)
            .execute();
        return 'ok';
      });
    },

    async createApiToken(t: {
      id: string;
      hash: Buffer;
      tenantId: string;
      userId: string | null;
      name: string;
      role: MemberRole;
      createdBy: string;
      expiresAt: Date;
    }): Promise<ApiTokenRow> {
      const r = await db
        .insertInto('api_tokens')
        .values({
          id: t.id,
          hash: t.hash,
          tenant_id: t.tenantId,
          user_id: t.userId,
          name: t.name,
          role: t.role,
          created_by: t.createdBy,
          expires_at: t.expiresAt,
        })
        .returning(TOKEN_COLUMNS)
        .executeTakeFirstOrThrow();
      return tokenOf(r);
    },

    async listApiTokens(tenantId: string): Promise<ApiTokenRow[]> {
      const rows = await db
        .selectFrom('api_tokens')
        .select(TOKEN_COLUMNS)
        .where('tenant_id', '=', tenantId)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .execute();
      return rows.map(tokenOf);
    },

    async getApiToken(tenantId: string, id: string): Promise<ApiTokenRow | undefined> {
      const r = await db
        .selectFrom('api_tokens')
        .select(TOKEN_COLUMNS)
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r && tokenOf(r);
    },

    /**
     * Who the given people and tokens are, within one tenant only: the emails of those of `userIds`
     * who are its members, the names of those of `tokenIds` that are its tokens. Another tenant's
     * person or token is simply not found.
     */
    async actorNames(
      tenantId: string,
      userIds: readonly string[],
      tokenIds: readonly string[],
    ): Promise<{ emails: Map<string, string>; tokens: Map<string, string> }> {
      const people =
        userIds.length === 0
          ? []
          : await db
              .selectFrom('tenant_members as m')
              .innerJoin('users as u', 'u.id', 'm.user_id')
              .select(['u.id', 'u.email'])
              .where('m.tenant_id', '=', tenantId)
              .where('m.user_id', 'in', [...userIds])
              .execute();
      const tokens =
        tokenIds.length === 0
          ? []
          : await db
              .selectFrom('api_tokens')
              .select(['id', 'name'])
              .where('tenant_id', '=', tenantId)
              .where('id', 'in', [...tokenIds])
              .execute();
      return {
        emails: new Map(people.map((p) => [p.id, p.email])),
        tokens: new Map(tokens.map((t) => [t.id, t.name])),
      };
    },

    /** For the auth hook: by id alone (the id is in the token), then the hash is compared. */
    async findApiToken(id: string): Promise<CredentialCheckRow | undefined> {
      const r = await db
        .selectFrom('api_tokens as t')
        .leftJoin('users as u', 'u.id', 't.user_id')
        .select(['t.hash', 't.user_id', 't.tenant_id', 't.role', 't.expires_at', 't.revoked_at', 'u.disabled_at'])
        .where('t.id', '=', id)
        .executeTakeFirst();
      return (
        r && {
          hash: Buffer.from(r.hash),
          userId: r.user_id,
          tenantId: r.tenant_id,
          role: r.role,
          expiresAt: new Date(r.expires_at),
          revoked: r.revoked_at !== null,
          userDisabled: r.disabled_at !== null && r.disabled_at !== undefined,
        }
      );
    },

    /**
     * Revokes the tenant tokens (no person) that `createdBy` made, but those whose role is in `keep`:
     * what a removed or demoted member minted stops with their standing. The ids revoked.
     */
    async revokeTenantTokensBy(tenantId: string, createdBy: string, keep: readonly MemberRole[]): Promise<string[]> {
      let q = db
        .updateTable('api_tokens')
        .set({ revoked_at: new Date() })
        .where('tenant_id', '=', tenantId)
        .where('created_by', '=', createdBy)
        .where('user_id', 'is', null)
        .where('revoked_at', 'is', null);
      if (keep.length > 0) q = q.where('role', 'not in', [...keep]);
      const rows = await q.returning('id').execute();
      return rows.map((r) => r.id);
    },

    async touchApiToken(id: string): Promise<void> {
      await db.updateTable('api_tokens').set({ last_used_at: new Date() }).where('id', '=', id).execute();
    },

    /** false when the tenant has no such token. */
    async revokeApiToken(tenantId: string, id: string): Promise<boolean> {
      const r = await db
        .updateTable('api_tokens')
        .set({ revoked_at: new Date() })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) > 0) return true;
      return (await this.getApiToken(tenantId, id)) !== undefined;
    },

    async createInvitation(i: {
      id: string;
      hash: Buffer;
      tenantId: string;
      email: string;
      role: MemberRole;
      createdBy: string;
      expiresAt: Date;
    }): Promise<InvitationRow> {
      const r = await db
        .insertInto('tenant_invitations')
        .values({
          id: i.id,
          hash: i.hash,
          tenant_id: i.tenantId,
          email: i.email,
          role: i.role,
          created_by: i.createdBy,
          expires_at: i.expiresAt,
        })
        .returning(INVITATION_COLUMNS)
        .executeTakeFirstOrThrow();
      return invitationOf(r);
    },

    async listInvitations(tenantId: string): Promise<InvitationRow[]> {
      const rows = await db
        .selectFrom('tenant_invitations')
        .select(INVITATION_COLUMNS)
        .where('tenant_id', '=', tenantId)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .execute();
      return rows.map(invitationOf);
    },

    async getInvitation(tenantId: string, id: string): Promise<InvitationRow | undefined> {
      const r = await db
        .selectFrom('tenant_invitations')
        .select(INVITATION_COLUMNS)
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r && invitationOf(r);
    },

    /** For accepting: by id alone (the id is in the token), with the hash to compare. */
    async findInvitation(id: string): Promise<(InvitationRow & { hash: Buffer }) | undefined> {
      const r = await db
        .selectFrom('tenant_invitations')
        .select([...INVITATION_COLUMNS, 'hash'])
        .where('id', '=', id)
        .executeTakeFirst();
      return r && { ...invitationOf(r), hash: Buffer.from(r.hash) };
    },

    async revokeInvitation(tenantId: string, id: string): Promise<void> {
      await db
        .updateTable('tenant_invitations')
        .set({ revoked_at: new Date() })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .where('accepted_at', 'is', null)
        .execute();
    },

    /**
     * Uses the invitation up and makes the person a member, in one transaction: 'member' when they
     * are one already (the invitation stays usable), 'gone' when it was used, revoked or expired
     * meanwhile (two accepts at once: one wins).
     */
    async acceptInvitation(id: string, userId: string): Promise<'ok' | 'member' | 'gone'> {
      return db.transaction().execute(async (trx) => {
        const inv = await trx
          .selectFrom('tenant_invitations')
          .select(['tenant_id', 'role'])
          .where('id', '=', id)
          .forUpdate()
          .executeTakeFirst();
        if (!inv) return 'gone';
        const member = await trx
          .selectFrom('tenant_members')
          .select('role')
          .where('tenant_id', '=', inv.tenant_id)
          .where('user_id', '=', userId)
          .executeTakeFirst();
        if (member) return 'member';
        const used = await trx
          .updateTable('tenant_invitations')
          .set({ accepted_at: new Date(), accepted_by: userId })
          .where('id', '=', id)
          .where('accepted_at', 'is', null)
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', new Date())
          .executeTakeFirst();
        if (Number(used.numUpdatedRows) !== 1) return 'gone';
        await trx
          .insertInto('tenant_members')
          .values({ tenant_id: inv.tenant_id, user_id: userId, role: inv.role })
          .execute();
        return 'ok';
      });
    },

    async putSsoState(s: { stateHash: Buffer; provider: string; nonce: string; verifier: string; expiresAt: Date }) {
      await db
        .insertInto('sso_states')
        .values({
          state_hash: s.stateHash,
          provider: s.provider,
          nonce: s.nonce,
          verifier: s.verifier,
          expires_at: s.expiresAt,
        })
        .execute();
    },

    /** Single use: the row is deleted as it is read, so of two callbacks with one state only one finds it. */
    async takeSsoState(stateHash: Buffer): Promise<SsoStateRow | undefined> {
      const r = await db
        .deleteFrom('sso_states')
        .where('state_hash', '=', stateHash)
        .returning(['provider', 'nonce', 'verifier', 'expires_at'])
        .executeTakeFirst();
      return r && { provider: r.provider, nonce: r.nonce, verifier: r.verifier, expiresAt: new Date(r.expires_at) };
    },

    /** Drops expired sign-ins; answers how many are still in progress. */
    async sweepSsoStates(now: Date): Promise<number> {
      await db.deleteFrom('sso_states').where('expires_at', '<=', now).execute();
      const row = await db
        .selectFrom('sso_states')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
export type IdentityRepository = ReturnType<typeof createIdentityRepository>;
