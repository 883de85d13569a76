import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { GatewayError, GatewayErrorCode } from '../errors';
import { ROLES } from '../http/access';
import { PASSWORD_MAX, PASSWORD_MIN, type Origin } from '../services/identity-service';
import { errorResponses, TenantId, TenantParams } from './schemas';

const Role = z.enum(ROLES);
const Email = z.string().trim().email().max(254);
const Password = z
  .string()
  .min(PASSWORD_MIN, `passwords have at least ${PASSWORD_MIN} characters`)
  .max(PASSWORD_MAX, `passwords have at most ${PASSWORD_MAX} characters`);
const DisplayName = z.string().trim().min(1).max(200);
const User = z.object({ id: z.string(), email: z.string(), displayName: z.string() });
const Member = z.object({
  tenantId: z.string(),
  userId: z.string(),
  email: z.string(),
  displayName: z.string(),
  role: Role,
});
const MemberParams = TenantParams.extend({ userId: z.string().uuid() });
const TokenSummary = z.object({
  id: z.string(),
  tenantId: z.string(),
  userId: z.string().nullable().describe('the person the token acts for; null: a token of the tenant'),
  name: z.string(),
  role: Role,
  createdBy: z.string(),
  createdAt: z.date(),
  expiresAt: z.date(),
  revokedAt: z.date().nullable(),
  lastUsedAt: z.date().nullable(),
});
const Invitation = z.object({
  id: z.string(),
  tenantId: z.string(),
  email: z.string(),
  role: Role,
  createdBy: z.string(),
  createdAt: z.date(),
  expiresAt: z.date(),
  acceptedAt: z.date().nullable(),
  acceptedBy: z.string().nullable().describe('the user who accepted it'),
  revokedAt: z.date().nullable(),
});
const InvitationParams = TenantParams.extend({
  invitationId: z.string().regex(/^[0-9a-f]{32}$/, 'an invitation id is 32 hex digits'),
});
const InvitationToken = z.string().min(1).max(200).describe('the invitation token (vin_…) the inviter passed on');
const Membership = z.object({ tenantId: z.string(), role: Role, userId: z.string(), email: z.string() });
const RevokedTokens = z
  .array(z.string())
  .describe("tenant tokens this member made that stopped working with the change (see the gateway's README)");
const TokenParams = TenantParams.extend({ tokenId: z.string().regex(/^[0-9a-f]{32}$/, 'a token id is 32 hex digits') });

export function originOf(req: FastifyRequest): Origin {
  const ua = req.headers['user-agent'];
  return { ip: req.ip, userAgent: typeof ua === 'string' ? ua.slice(0, 256) : undefined };
}

/** The person behind a request, for routes about oneself (`signed-in`). */
function personOf(req: FastifyRequest): { userId: string; sessionId?: string } {
  // (the admin token and tokens reach here only on `signed-in` routes, which refuse API tokens)
  const p = req.principal;
  if (p.kind !== 'person')
    throw new GatewayError(
      GatewayErrorCode.badRequest,
      'this endpoint is about a signed-in person; the admin token is none',
    );
  return { userId: p.userId, sessionId: 'sessionId' in p ? p.sessionId : undefined };
}

/** What a token- or member-changing caller is: the admin token counts as an owner, labelled as such. */
function callerOf(req: FastifyRequest) {
  const p = req.principal;
  if (p.kind === 'admin') return { label: 'admin-token', role: 'owner' as const };
  const role = req.memberRole;
  if (!role) throw new GatewayError(GatewayErrorCode.internal, 'member route reached without a role');
  if (p.kind === 'person')
    return { userId: p.userId, label: `user:${p.userId}`, role, ...('tokenId' in p ? { apiToken: true } : {}) };
  if (p.kind === 'tenant-token') return { label: `token:${p.tokenId}`, role, apiToken: true };
  throw new GatewayError(GatewayErrorCode.internal, 'member route reached by an agent credential');
}

const identityRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v1/bootstrap',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'bootstrapFirstOwner',
        tags: ['people'],
        description:
          'The first owner, with the admin token only: creates the account and the tenant (if new) with them as owner. Refused (409) once any account exists.',
        body: z.object({
          email: Email,
          password: Password,
          displayName: DisplayName.optional(),
          tenantId: TenantId,
          tenantName: z.string().min(1).max(200).optional(),
        }),
        response: {
          201: z.object({ user: User, tenant: z.object({ id: z.string(), name: z.string() }), role: Role }),
          ...errorResponses(403, 409),
        },
      },
    },
    async (req, reply) => {
      const out = await app.identity.bootstrap(req.body);
      return reply.code(201).send({
        user: { id: out.user.id, email: out.user.email, displayName: out.user.displayName },
        tenant: out.tenant,
        role: out.role,
      });
    },
  );

  app.post(
    '/v1/sessions',
    {
      config: { auth: 'public' },
      schema: {
        operationId: 'signIn',
        tags: ['people'],
        description:
          'Signs in with a local account: a session token (shown once, stored hashed, expiring). Repeated failures for an account or from an address answer 429 with Retry-After.',
        body: z.object({ email: Email, password: z.string().min(1).max(PASSWORD_MAX) }),
        response: {
          201: z.object({ token: z.string(), expiresAt: z.date(), user: User }),
          ...errorResponses(429),
        },
      },
    },
    async (req, reply) => {
      const session = await app.identity.signIn(req.body, originOf(req)).catch((err: unknown) => {
        // Who tried, from where, and why it failed: never the password.
        if (err instanceof GatewayError)
          req.log.warn({ source: req.ip, account: req.body.email.toLowerCase(), reason: err.code }, 'sign-in refused');
        throw err;
      });
      return reply.code(201).send({ token: session.token, expiresAt: session.expiresAt, user: session.user });
    },
  );

  app.delete(
    '/v1/sessions/current',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'signOut',
        tags: ['people'],
        description: 'Ends the session whose token authenticates this request; the token stops working at once.',
        response: { 204: z.null(), ...errorResponses(403) },
      },
    },
    async (req, reply) => {
      const { sessionId } = personOf(req);
      if (!sessionId)
        throw new GatewayError(GatewayErrorCode.badRequest, 'sign out with a session token; revoke API tokens instead');
      await app.identity.signOut(sessionId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/me',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'getMe',
        tags: ['people'],
        description: 'The signed-in person and the tenants they are a member of, with their role in each.',
        response: {
          200: z.object({ user: User, memberships: z.array(z.object({ tenantId: z.string(), role: Role })) }),
          ...errorResponses(403),
        },
      },
    },
    async (req) => {
      const { user, memberships } = await app.identity.me(personOf(req).userId);
      return { user: { id: user.id, email: user.email, displayName: user.displayName }, memberships };
    },
  );

  const members = '/v1/tenants/:tenantId/members';
  app.get(
    members,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listMembers',
        tags: ['people'],
        params: TenantParams,
        response: { 200: z.object({ members: z.array(Member) }), ...errorResponses(403, 404) },
      },
    },
    async (req) => ({ members: await app.identity.listMembers(req.params.tenantId) }),
  );

  app.post(
    members,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'addMember',
        tags: ['people'],
        description:
          'Adds a person by address with a role. An address without an account needs an initial password (the account is created). Only owners add owners.',
        params: TenantParams,
        body: z.object({
          email: Email,
          role: Role,
          password: Password.optional(),
          displayName: DisplayName.optional(),
        }),
        response: { 201: Member, ...errorResponses(403, 404, 409) },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await app.identity.addMember(req.params.tenantId, req.body, callerOf(req).role)),
  );

  app.put(
    `${members}/:userId`,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'changeMemberRole',
        tags: ['people'],
        description:
          "Changes a member's role. Owners are changed by owners only; the last owner stays an owner (409). Tenant tokens the member made that their new role could not make stop working (`revokedTokens`).",
        params: MemberParams,
        body: z.object({ role: Role }),
        response: {
          200: z.object({
            tenantId: z.string(),
            userId: z.string(),
            role: Role,
            previousRole: Role,
            revokedTokens: RevokedTokens,
          }),
          ...errorResponses(403, 404, 409),
        },
      },
    },
    async (req) => {
      const out = await app.identity.changeMember(
        req.params.tenantId,
        req.params.userId,
        req.body.role,
        callerOf(req).role,
      );
      return { ...out, role: req.body.role };
    },
  );

  app.delete(
    `${members}/:userId`,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'removeMember',
        tags: ['people'],
        description:
          'Removes a member (their personal tokens for the tenant, and the tenant tokens they made, stop working with it). The last owner cannot be removed (409).',
        params: MemberParams,
        response: { 204: z.null(), ...errorResponses(403, 404, 409) },
      },
    },
    async (req, reply) => {
      await app.identity.changeMember(req.params.tenantId, req.params.userId, null, callerOf(req).role);
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/v1/me/password',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'changePassword',
        tags: ['people'],
        description:
          "Changes the signed-in person's password (with a session). The current password is checked under the sign-in lockout (403 when wrong, 429 with Retry-After after repeated failures); the person's other sessions end. Audited in each of their tenants.",
        body: z.object({ current: z.string().min(1).max(PASSWORD_MAX), next: Password }),
        response: {
          200: z.object({ endedSessions: z.number().int().describe("the person's other sessions that ended") }),
          ...errorResponses(403, 429),
        },
      },
    },
    async (req) => {
      const { userId, sessionId } = personOf(req);
      if (!sessionId)
        throw new GatewayError(GatewayErrorCode.badRequest, 'change a password with a session (POST /v1/sessions)');
      return app.identity.changePassword({ userId, sessionId }, req.body, originOf(req));
    },
  );

  const invitations = '/v1/tenants/:tenantId/invitations';
  app.post(
    invitations,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'createInvitation',
        tags: ['people'],
        description:
          'Invites an address with a role: the invitation token is in `token`, shown once (stored hashed), single use, expiring (7 days unless `expiresInDays`), revocable. The invited person accepts with their own session (POST /v1/invitations/accept) or, without an account, creates one with it (POST /v1/invitations/register). Only owners invite owners.',
        params: TenantParams,
        body: z.object({
          email: Email,
          role: Role,
          expiresInDays: z.number().int().min(1).max(30).optional(),
        }),
        response: { 201: Invitation.extend({ token: z.string() }), ...errorResponses(403, 404, 409) },
      },
    },
    async (req, reply) => reply.code(201).send(await app.identity.invite(req.params.tenantId, req.body, callerOf(req))),
  );

  app.get(
    invitations,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listInvitations',
        tags: ['people'],
        description: "The tenant's invitations, open and past, without their tokens.",
        params: TenantParams,
        response: { 200: z.object({ invitations: z.array(Invitation) }), ...errorResponses(403, 404) },
      },
    },
    async (req) => ({ invitations: await app.identity.listInvitations(req.params.tenantId) }),
  );

  app.delete(
    `${invitations}/:invitationId`,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'revokeInvitation',
        tags: ['people'],
        description: 'Revokes an open invitation: its token stops working at once (409 when accepted already).',
        params: InvitationParams,
        response: { 200: Invitation, ...errorResponses(403, 404, 409) },
      },
    },
    async (req) => app.identity.revokeInvitation(req.params.tenantId, req.params.invitationId),
  );

  app.post(
    '/v1/invitations/accept',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'acceptInvitation',
        tags: ['people'],
        description:
          "Accepts an invitation as the signed-in person (a session, local or single sign-on): the account's address must be the invited one (403 otherwise). The person becomes a member with the invited role; the invitation is used up.",
        body: z.object({ token: InvitationToken }),
        response: { 200: Membership, ...errorResponses(403, 404, 409, 410) },
      },
    },
    async (req) => {
      const { userId, sessionId } = personOf(req);
      if (!sessionId)
        throw new GatewayError(GatewayErrorCode.badRequest, 'accept an invitation with a session (POST /v1/sessions)');
      return app.identity.acceptInvitation(req.body.token, userId, originOf(req));
    },
  );

  app.post(
    '/v1/invitations/register',
    {
      config: { auth: 'public' },
      schema: {
        operationId: 'registerWithInvitation',
        tags: ['people'],
        description:
          'A new person accepts an invitation by creating their account with it: the invited address, a password of their choosing. They become a member and are signed in (a session token, as POST /v1/sessions). An address that has an account is refused (409): sign in and accept instead.',
        body: z.object({ token: InvitationToken, password: Password, displayName: DisplayName.optional() }),
        response: {
          201: z.object({ token: z.string(), expiresAt: z.date(), user: User, membership: Membership }),
          ...errorResponses(404, 409, 410),
        },
      },
    },
    async (req, reply) => {
      const out = await app.identity.registerWithInvitation(req.body, originOf(req));
      return reply
        .code(201)
        .send({ token: out.token, expiresAt: out.expiresAt, user: out.user, membership: out.membership });
    },
  );

  const tokens = '/v1/tenants/:tenantId/tokens';
  app.post(
    tokens,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'createApiToken',
        tags: ['people'],
        description:
          "An API token, shown once in `token`: `personal` acts for the caller (capped by their role at every use), `tenant` for the tenant itself (owners and admins). Its role may not exceed the caller's.",
        params: TenantParams,
        body: z.object({
          name: z.string().trim().min(1).max(100),
          role: Role,
          kind: z.enum(['personal', 'tenant']).default('personal'),
          expiresInDays: z.number().int().min(1).max(3650).default(90),
        }),
        response: { 201: TokenSummary.extend({ token: z.string() }), ...errorResponses(403, 404) },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await app.identity.createToken(req.params.tenantId, req.body, callerOf(req))),
  );

  app.get(
    tokens,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listApiTokens',
        tags: ['people'],
        description:
          "The tenant's tokens without their secrets: every one for owners and admins, one's own for others.",
        params: TenantParams,
        response: { 200: z.object({ tokens: z.array(TokenSummary) }), ...errorResponses(403, 404) },
      },
    },
    async (req) => ({ tokens: await app.identity.listTokens(req.params.tenantId, callerOf(req)) }),
  );

  app.delete(
    `${tokens}/:tokenId`,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'revokeApiToken',
        tags: ['people'],
        description: "Revokes a token at once: one's own, or any of the tenant's for owners and admins.",
        params: TokenParams,
        response: { 200: TokenSummary, ...errorResponses(403, 404) },
      },
    },
    async (req) => app.identity.revokeToken(req.params.tenantId, req.params.tokenId, callerOf(req)),
  );
};

export default fp(identityRoutes, {
  name: 'identity-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'identity-service'],
});
