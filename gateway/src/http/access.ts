import type { MemberRole } from '@vansales/metadata';

/**
 * Who may do what: THE table of role × route. Every control-plane route (`config.auth: 'admin'`)
 * must have a row in ROUTE_ACCESS, or the gateway refuses to start (the auth hook's onRoute check),
 * and the one auth hook enforces the row on every request. A row names either a permission (checked
 * against the caller's role in the path's tenant) or one of two tenant-less rules.
 */
export const Permission = {
  /** Reading anything of the tenant (no secret is readable through any route). */
  read: 'read',
  /** Definitions, their versions, publishing, webhooks; registering API versions. */
  definitionsWrite: 'definitions:write',
  /** Connectors, their keys and schemas, queries against sites. */
  connectorsWrite: 'connectors:write',
  /** Starting, cancelling, retrying runs and syncs, schedules, control flags. */
  runsWrite: 'runs:write',
  /** Cloud credentials and OAuth authorizations. */
  credentialsWrite: 'credentials:write',
  /** Members and their roles, the tenant's own API tokens. */
  membersWrite: 'members:write',
  /** The people audit of the tenant. */
  auditRead: 'audit:read',
  /** The tenant's quota overrides (owner and admin: they answer for what the tenant costs). */
  quotasWrite: 'quotas:write',
  /** Which agent version the tenant's agents are offered (owner and admin: it changes code on every site). */
  agentUpdatesWrite: 'agent-updates:write',
} as const;
export type Permission = (typeof Permission)[keyof typeof Permission];

/**
 * Tenant-less rules: `signed-in` is any person (or the admin token), for routes about the caller
 * itself or that create a tenant; `admin-token` is the bootstrap token alone (first owner, codec).
 */
export type Access = Permission | 'signed-in' | 'admin-token';

export const ROLES = ['owner', 'admin', 'author', 'operator', 'viewer'] as const satisfies readonly MemberRole[];

const P = Permission;
/** The roles of issue 12: author writes definitions, operator runs things; admin is owner but for owners. */
export const ROLE_PERMISSIONS: Record<MemberRole, ReadonlySet<Permission>> = {
  owner: new Set(Object.values(P)),
  admin: new Set(Object.values(P)),
  author: new Set([P.read, P.definitionsWrite]),
  operator: new Set([P.read, P.connectorsWrite, P.runsWrite]),
  viewer: new Set([P.read]),
};

export function roleAllows(role: MemberRole, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].has(permission);
}

/** A role whose permissions are all another's: what a token made by a person may carry at most. */
export function roleCovers(holder: MemberRole, wanted: MemberRole): boolean {
  if (holder === 'owner') return true;
  if (wanted === 'owner') return false;
  return [...ROLE_PERMISSIONS[wanted]].every((p) => ROLE_PERMISSIONS[holder].has(p));
}

/** The lesser of two roles (a person's token is capped by both its role and the person's). */
export function lesserRole(a: MemberRole, b: MemberRole): MemberRole {
  if (roleCovers(a, b)) return b;
  if (roleCovers(b, a)) return a;
  // Siblings (author, operator): only what both may do, which is reading.
  return 'viewer';
}

const t = '/v1/tenants/:tenantId';
const d = `${t}/definitions/:definitionId`;
const c = `${t}/connectors/:connectorId`;

/** `METHOD url` (fastify's url, with :params) → what the caller needs. */
export const ROUTE_ACCESS: Record<string, Access> = {
  // people and tenants
  'POST /v1/bootstrap': 'admin-token',
  'GET /v1/me': 'signed-in',
  'DELETE /v1/sessions/current': 'signed-in',
  'POST /v1/tenants': 'signed-in',
  [`GET ${t}/members`]: P.read,
  [`POST ${t}/members`]: P.membersWrite,
  [`PUT ${t}/members/:userId`]: P.membersWrite,
  [`DELETE ${t}/members/:userId`]: P.membersWrite,
  [`POST ${t}/invitations`]: P.membersWrite,
  [`GET ${t}/invitations`]: P.membersWrite,
  [`DELETE ${t}/invitations/:invitationId`]: P.membersWrite,
  // About the caller themself: a session (API tokens are refused on signed-in routes).
  'PUT /v1/me/password': 'signed-in',
  'POST /v1/invitations/accept': 'signed-in',
  // A person makes tokens for themself up to their own role; tenant tokens need members:write (service).
  [`POST ${t}/tokens`]: P.read,
  [`GET ${t}/tokens`]: P.read,
  [`DELETE ${t}/tokens/:tokenId`]: P.read,
  [`GET ${t}/audit`]: P.auditRead,
  [`GET ${t}/audit/export`]: P.auditRead,
  [`GET ${t}/audit/verify`]: P.auditRead,
  [`GET ${t}/quotas`]: P.read,
  [`PUT ${t}/quotas`]: P.quotasWrite,
  // The codec decrypts every tenant's payloads: the operator's token only.
  'POST /v1/codec/decode': 'admin-token',
  // Metrics count every tenant's sessions and tasks: the operator's token only (Prometheus' bearer token).
  'GET /metrics': 'admin-token',
  // Agent releases are the platform operator's (every tenant's agents may be offered them); approving
  // one for a tenant is its owner's or admin's (issue 13 §5).
  'GET /v1/agent-releases': 'admin-token',
  'PUT /v1/agent-releases/:version': 'admin-token',
  'PUT /v1/agent-releases/:version/:platform': 'admin-token',
  [`GET ${t}/agent-releases`]: P.read,
  [`GET ${t}/agent-version`]: P.read,
  [`PUT ${t}/agent-version`]: P.agentUpdatesWrite,
  [`DELETE ${t}/agent-version`]: P.agentUpdatesWrite,
  // connectors, keys, schemas, queries
  [`POST ${t}/connectors`]: P.connectorsWrite,
  [`GET ${t}/connectors`]: P.read,
  [`GET ${c}/refusals`]: P.read,
  [`GET ${c}/audit`]: P.auditRead,
  [`GET ${c}/audit/verify`]: P.read,
  [`GET ${c}/policy`]: P.read,
  [`GET ${c}/doctor`]: P.read,
  [`GET ${c}/keys`]: P.read,
  [`POST ${c}/keys`]: P.connectorsWrite,
  [`POST ${c}/keys/:keyId/revoke`]: P.connectorsWrite,
  [`POST ${c}/revoke`]: P.connectorsWrite,
  [`POST ${c}/rebind`]: P.connectorsWrite,
  [`POST ${c}/schemas/:database/discover`]: P.connectorsWrite,
  [`GET ${c}/schemas/:database/versions`]: P.read,
  [`GET ${c}/schemas/:database`]: P.read,
  [`GET ${c}/schemas/:database/diff`]: P.read,
  [`POST ${t}/queries`]: P.connectorsWrite,
  // syncs
  [`POST ${t}/syncs`]: P.runsWrite,
  [`GET ${t}/syncs/:workflowId`]: P.read,
  [`POST ${t}/syncs/:workflowId/run-now`]: P.runsWrite,
  // definitions
  [`POST ${t}/definitions/validate`]: P.read,
  [`POST ${t}/definitions`]: P.definitionsWrite,
  [`GET ${t}/definitions`]: P.read,
  [`GET ${d}`]: P.read,
  [`POST ${d}/versions`]: P.definitionsWrite,
  [`GET ${d}/versions`]: P.read,
  [`GET ${d}/versions/:version`]: P.read,
  [`GET ${d}/diff`]: P.read,
  [`POST ${d}/publish`]: P.definitionsWrite,
  [`POST ${d}/archive`]: P.definitionsWrite,
  [`POST ${d}/webhook`]: P.definitionsWrite,
  [`GET ${d}/webhook`]: P.read,
  [`POST ${d}/webhook/rotate`]: P.definitionsWrite,
  [`DELETE ${d}/webhook`]: P.definitionsWrite,
  // runs, schedules, flags
  [`POST ${d}/runs`]: P.runsWrite,
  [`GET ${t}/runs`]: P.read,
  [`GET ${d}/runs`]: P.read,
  [`GET ${d}/runs/:runId`]: P.read,
  [`POST ${d}/runs/:runId/cancel`]: P.runsWrite,
  [`POST ${d}/runs/:runId/retry`]: P.runsWrite,
  [`POST ${d}/runs/:runId/rerun`]: P.runsWrite,
  [`POST ${d}/runs/:runId/approve`]: P.runsWrite,
  [`GET ${d}/schedules`]: P.read,
  [`GET ${d}/watchers`]: P.read,
  [`POST ${d}/schedules/:scheduleId/pause`]: P.runsWrite,
  [`POST ${d}/schedules/:scheduleId/resume`]: P.runsWrite,
  [`GET ${t}/flags`]: P.read,
  [`POST ${t}/flags`]: P.runsWrite,
  [`DELETE ${t}/flags`]: P.runsWrite,
  // APIs (issue 11) and their call audit
  [`POST ${t}/apis/:apiId/versions`]: P.definitionsWrite,
  [`POST ${t}/apis/:apiId/refresh`]: P.definitionsWrite,
  [`GET ${t}/apis`]: P.read,
  [`GET ${t}/apis/:apiId/versions`]: P.read,
  [`GET ${t}/apis/:apiId/versions/:version/operations`]: P.read,
  [`GET ${t}/apis/:apiId/versions/:version/upgrade-impact`]: P.read,
  [`GET ${t}/api-calls`]: P.read,
  // credentials (summaries only are readable)
  [`GET ${t}/credentials`]: P.read,
  [`GET ${t}/credentials/:name`]: P.read,
  [`PUT ${t}/credentials/:name`]: P.credentialsWrite,
  [`POST ${t}/credentials/:name/rotate`]: P.credentialsWrite,
  [`DELETE ${t}/credentials/:name`]: P.credentialsWrite,
  [`POST ${t}/apis/:apiId/oauth/:scheme/authorize`]: P.credentialsWrite,
};

export function accessOf(method: string, url: string): Access | undefined {
  return ROUTE_ACCESS[`${method} ${url}`];
}
