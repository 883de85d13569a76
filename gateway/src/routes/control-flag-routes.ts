import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, TenantParams } from './schemas';
import { actorOf } from './definition-run-routes';
import { actorLabelSchema, withActorLabels } from './actor-labels';

const Scope = z.enum(['definition', 'connector', 'tenant']);
/** Target ids reach visibility queries: a fixed alphabet, no quote. */
const TargetId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a definition id, connector id or the tenant id');
const Flag = z.object({
  scope: Scope,
  targetId: z.string(),
  state: z.enum(['paused', 'stopped']),
  setBy: z.string(),
  reason: z.string(),
  setAt: z.string(),
});

const controlFlagRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/v1/tenants/:tenantId/flags',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listControlFlags',
        tags: ['flags'],
        description: "The tenant's control flags (pauses and emergency stops).",
        params: TenantParams,
        response: {
          200: z.array(Flag.extend({ setByLabel: actorLabelSchema('who set the flag') })),
          ...errorResponses(),
        },
      },
    },
    async (req) => withActorLabels(app, req.params.tenantId, await app.controlFlags.list(req.params.tenantId), 'setBy'),
  );

  app.post(
    '/v1/tenants/:tenantId/flags',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'setControlFlag',
        tags: ['flags'],
        description:
          'Pauses (`paused`) or stops (`stopped`) a definition, a connector or the whole tenant: new runs are refused, running runs wait (pause) or end (stop) at their next step boundary, schedules pause. Audited with the actor (X-Actor).',
        params: TenantParams,
        body: z.object({
          scope: Scope,
          targetId: TargetId,
          state: z.enum(['paused', 'stopped']),
          reason: z.string().min(1).max(500),
        }),
        response: { 200: z.object({ flag: Flag, runsSignalled: z.number() }), ...errorResponses(404) },
      },
    },
    async (req) => app.controlFlags.set(req.params.tenantId, req.body, actorOf(req)),
  );

  app.delete(
    '/v1/tenants/:tenantId/flags',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'clearControlFlag',
        tags: ['flags'],
        description:
          'Clears a flag: new runs are allowed again and paused runs resume, unless another flag still applies to them.',
        params: TenantParams,
        body: z.object({ scope: Scope, targetId: TargetId }),
        response: { 200: z.object({ cleared: Flag, runsSignalled: z.number() }), ...errorResponses(404) },
      },
    },
    async (req) => app.controlFlags.clear(req.params.tenantId, req.body.scope, req.body.targetId, actorOf(req)),
  );
};

export default fp(controlFlagRoutes, {
  name: 'control-flag-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'identity-service', 'control-flag-service'],
});
