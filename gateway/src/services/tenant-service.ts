import fp from 'fastify-plugin';
import type { Repositories } from '@vansales/metadata';
import { GatewayError, GatewayErrorCode } from '../errors';

export function createTenantService(deps: { repos: Repositories }) {
  const { repos } = deps;
  return {
    /** Creates a tenant; creating one that exists answers the stored one (idempotent). */
    create(input: { id: string; name: string }) {
      return repos.upsertTenant(input);
    },

    async require(tenantId: string) {
      const tenant = await repos.getTenant(tenantId);
      if (!tenant) throw new GatewayError(GatewayErrorCode.notFound, `tenant ${tenantId} not found`);
      return tenant;
    },
  };
}
export type TenantService = ReturnType<typeof createTenantService>;

declare module 'fastify' {
  interface FastifyInstance {
    tenants: TenantService;
  }
}

export const tenantServicePlugin = fp<{ repos: Repositories }>(
  async (app, deps) => void app.decorate('tenants', createTenantService(deps)),
  { name: 'tenant-service', fastify: '5.x' },
);
