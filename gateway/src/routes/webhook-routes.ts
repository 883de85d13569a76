import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, ErrorBody, TenantParams } from './schemas';

/** The same pattern the definition model gives definition ids (a definition call step names one). */
const DefinitionParams = TenantParams.extend({
  definitionId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'definition ids are lowercase slugs of 1-63 characters'),
});
const HookParams = z.object({
  hookId: z.string().regex(/^wh_[A-Za-z0-9_-]{32}$/, 'not a webhook address'),
});
const Secret = z
  .string()
  .min(1)
  .max(512)
  .describe("the sender's own signing secret (Stripe makes its own); a new random one when left out");
const SecretInfo = z.object({ secretId: z.string(), createdAt: z.string(), expiresAt: z.string().nullable() });
const Created = z.object({
  hookId: z.string(),
  path: z.string().describe('POST deliveries here, on this gateway'),
  scheme: z.enum(['standard-webhooks', 'stripe', 'github']),
  secret: z.string().describe('shown once: the gateway keeps it sealed and never shows it again'),
  secretId: z.string(),
});

export interface WebhookRouteOptions {
  /** Largest delivery body in bytes (413 past it). */
  maxBodyBytes: number;
}

const webhookRoutes: FastifyPluginAsyncZod<WebhookRouteOptions> = async (app, options) => {
  app.post(
    '/v1/tenants/:tenantId/definitions/:definitionId/webhook',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'createWebhook',
        tags: ['webhooks'],
        description:
          'Gives a published definition with a webhook trigger its delivery address and signing secret (shown only in this answer). 409 when it has one already, or its published version has no webhook trigger.',
        params: DefinitionParams,
        body: z.object({ secret: Secret.optional() }).optional(),
        response: { 201: Created, ...errorResponses(404, 409) },
      },
    },
    async (req, reply) =>
      reply
        .code(201)
        .send(await app.webhooks.create(req.params.tenantId, req.params.definitionId, { secret: req.body?.secret })),
  );

  app.get(
    '/v1/tenants/:tenantId/definitions/:definitionId/webhook',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'getWebhook',
        tags: ['webhooks'],
        description: "A definition's webhook address and its live secrets (ids and expiries, never the secrets).",
        params: DefinitionParams,
        response: {
          200: z.object({
            hookId: z.string(),
            path: z.string(),
            definitionId: z.string(),
            createdAt: z.string(),
            secrets: z.array(SecretInfo),
          }),
          ...errorResponses(404),
        },
      },
    },
    async (req) => app.webhooks.describe(req.params.tenantId, req.params.definitionId),
  );

  app.post(
    '/v1/tenants/:tenantId/definitions/:definitionId/webhook/rotate',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'rotateWebhookSecret',
        tags: ['webhooks'],
        description:
          'A new signing secret (shown only in this answer). The previous one stays valid for previousValidSeconds (default one day), so senders can switch; any older one ends now.',
        params: DefinitionParams,
        body: z
          .object({
            secret: Secret.optional(),
            previousValidSeconds: z
              .number()
              .int()
              .min(0)
              .max(30 * 86_400)
              .default(86_400),
          })
          .optional(),
        response: {
          200: z.object({
            hookId: z.string(),
            secret: z.string(),
            secretId: z.string(),
            previousExpiresAt: z.string(),
          }),
          ...errorResponses(404, 409),
        },
      },
    },
    async (req) =>
      app.webhooks.rotate(req.params.tenantId, req.params.definitionId, {
        secret: req.body?.secret,
        previousValidSeconds: req.body?.previousValidSeconds ?? 86_400,
      }),
  );

  app.delete(
    '/v1/tenants/:tenantId/definitions/:definitionId/webhook',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'deleteWebhook',
        tags: ['webhooks'],
        description: 'Removes the webhook and its secrets: its address answers 404 from now on.',
        params: DefinitionParams,
        response: { 204: z.null(), ...errorResponses(404) },
      },
    },
    async (req, reply) => {
      await app.webhooks.remove(req.params.tenantId, req.params.definitionId);
      return reply.code(204).send(null);
    },
  );

  // Deliveries: the raw bytes, as signed (a parsed and serialised body would not verify).
  await app.register(async (scope) => {
    const hooks = scope.withTypeProvider<ZodTypeProvider>();
    hooks.removeAllContentTypeParsers();
    hooks.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.maxBodyBytes }, (_req, body, done) =>
      done(null, body),
    );
    hooks.post(
      '/v1/hooks/:hookId',
      {
        config: { auth: 'public' },
        bodyLimit: options.maxBodyBytes,
        schema: {
          operationId: 'deliverWebhook',
          tags: ['webhooks'],
          description:
            "A webhook delivery, signed by the definition's scheme (Standard Webhooks, Stripe or GitHub). Answered 202 once the run is durably started in Temporal, 200 for a delivery id seen before (no second run); 401 bad signature, 400 stale timestamp or no delivery id, 404 unknown address, 409 no published webhook trigger, 413 too large, 415 content type, 423 runs paused or stopped, 429 the tenant's webhooksPerMinute quota (Retry-After), 503 Temporal did not accept the run (deliver again).",
          params: HookParams,
          response: {
            200: z.object({ workflowId: z.string(), runId: z.string().nullable(), duplicate: z.boolean() }),
            202: z.object({ workflowId: z.string(), runId: z.string().nullable(), duplicate: z.boolean() }),
            423: ErrorBody,
            ...errorResponses(404, 409, 413, 415, 429),
          },
        },
      },
      async (req, reply) => {
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const { status, ...answer } = await app.webhooks.deliver(req.params.hookId, {
          headers: req.headers,
          body,
          contentType: req.headers['content-type'] ?? '',
        });
        return reply.code(status).send(answer);
      },
    );
  });
};

export default fp(webhookRoutes, {
  name: 'webhook-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'webhook-service'],
});
