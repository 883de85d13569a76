'use client';

import { useConnection, useMe, type Connection, type Role } from './use-connection';

export const ROLES: readonly Role[] = ['owner', 'admin', 'author', 'operator', 'viewer'];

/**
 * The caller's role in a tenant, for what the page offers (the gateway decides in the end):
 * a person's from GET /v1/me; `owner` for a token that is no person's (the admin token counts as an
 * owner; a tenant token's own role is not readable, so its refusals come from the gateway).
 */
export function useTenantRole(tenantId: string): { connection: Connection; role?: Role; loading: boolean } {
  const connection = useConnection();
  const { me } = useMe(connection);
  if (me === undefined) return { connection, loading: true };
  if (me === null) return { connection, role: 'owner', loading: false };
  return { connection, role: me.memberships.find((m) => m.tenantId === tenantId)?.role, loading: false };
}

export const managesPeople = (role?: Role) => role === 'owner' || role === 'admin';
/** Approving the agent version changes code on every site: owners and admins (`agent-updates:write`). */
export const approvesAgentVersions = (role?: Role) => role === 'owner' || role === 'admin';
