import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, TenantId } from './schemas';

const Tenant = z.object({ id: z.string(), name: z.string() });

const tenantRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v1/tenants',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'createTenant',
        tags: ['tenants'],
        description:
          "Creates a tenant. With the admin token, creating one that exists answers the stored one; a person becomes the new tenant's owner, and an id that is taken is a 409.",
        body: z.object({ id: TenantId, name: z.string().min(1).max(200) }),
        response: { 201: Tenant, ...errorResponses(403, 409) },
      },
    },
    async (req, reply) => {
      const p = req.principal;
      const tenant =
        p.kind === 'person'
          ? await app.identity.createTenantAsOwner(req.body, p.userId)
          : await app.tenants.create(req.body);
      return reply.code(201).send(tenant);
    },
  );
};

export default fp(tenantRoutes, {
  name: 'tenant-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'tenant-service', 'identity-service'],
});
