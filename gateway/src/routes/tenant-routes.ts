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
        description: 'Creates a tenant; creating one that exists answers the stored one.',
        body: z.object({ id: TenantId, name: z.string().min(1).max(200) }),
        response: { 201: Tenant, ...errorResponses() },
      },
    },
    async (req, reply) => reply.code(201).send(await app.tenants.create(req.body)),
  );
};

export default fp(tenantRoutes, {
  name: 'tenant-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'tenant-service'],
});
