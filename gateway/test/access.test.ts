import {
  lesserRole,
  roleAllows,
  roleCovers,
  ROLE_PERMISSIONS,
  ROLES,
  ROUTE_ACCESS,
  Permission,
} from '../src/http/access';
import { parseToken } from '../src/services/identity-service';

describe('the role x route table', () => {
  it('gives owners and admins everything, authors definitions, operators connectors and runs, viewers reading', () => {
    const table = Object.fromEntries(
      ROLES.map((role) => [role, Object.values(Permission).filter((p) => roleAllows(role, p))]),
    );
    expect(table).toEqual({
      owner: Object.values(Permission),
      admin: Object.values(Permission),
      author: ['read', 'definitions:write'],
      operator: ['read', 'connectors:write', 'runs:write'],
      viewer: ['read'],
    });
  });

  it('caps a token by the lesser role: siblings meet at reading, nobody exceeds their own', () => {
    expect(lesserRole('owner', 'operator')).toBe('operator');
    expect(lesserRole('author', 'operator')).toBe('viewer');
    expect(lesserRole('viewer', 'admin')).toBe('viewer');
    expect(roleCovers('admin', 'owner')).toBe(false);
    expect(roleCovers('operator', 'author')).toBe(false);
    expect(roleCovers('operator', 'viewer')).toBe(true);
  });

  it('names only known permissions or rules, and every tenant route is under a permission', () => {
    const known = new Set<string>([...Object.values(Permission), 'signed-in', 'admin-token']);
    for (const [route, access] of Object.entries(ROUTE_ACCESS)) {
      expect(known.has(access)).toBe(true);
      if (route.includes(':tenantId')) expect(Object.values(Permission)).toContain(access);
    }
    expect(Object.keys(ROLE_PERMISSIONS).sort()).toEqual([...ROLES].sort());
  });

  it("lets only owners and admins approve an agent version; releases are the platform operator's", () => {
    expect(ROUTE_ACCESS['PUT /v1/tenants/:tenantId/agent-version']).toBe(Permission.agentUpdatesWrite);
    expect(ROUTE_ACCESS['DELETE /v1/tenants/:tenantId/agent-version']).toBe(Permission.agentUpdatesWrite);
    expect(ROLES.filter((role) => roleAllows(role, Permission.agentUpdatesWrite))).toEqual(['owner', 'admin']);
    // Any member reads what could be approved (never the signing material: the route's schema has none).
    expect(ROUTE_ACCESS['GET /v1/tenants/:tenantId/agent-releases']).toBe(Permission.read);
    expect(ROUTE_ACCESS['PUT /v1/agent-releases/:version']).toBe('admin-token');
    expect(ROUTE_ACCESS['PUT /v1/agent-releases/:version/:platform']).toBe('admin-token');
  });

  it('parses only well-formed session and API tokens', () => {
    const id = 'a'.repeat(32);
    const secret = 'B'.repeat(43);
    expect(parseToken(`vss_${id}_${secret}`)).toEqual({ kind: 'session', id, secret });
    expect(parseToken(`vat_${id}_${secret}`)).toEqual({ kind: 'api', id, secret });
    expect(parseToken(`vmc_${id}_${secret}`)).toBeUndefined();
    expect(parseToken(`vss_${id}_${secret}x`)).toBeUndefined();
    expect(parseToken('x'.repeat(40))).toBeUndefined();
  });
});
