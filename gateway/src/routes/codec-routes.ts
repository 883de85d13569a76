import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from './schemas';

/** Temporal's remote codec protocol: payloads as JSON with base64 metadata values and data. */
const JsonPayload = z.object({ metadata: z.record(z.string(), z.string()).default({}), data: z.string().default('') });
const Payloads = z.object({ payloads: z.array(JsonPayload).max(10_000) });

/**
 * The codec endpoint the Temporal Web UI (and `temporal --codec-endpoint`) calls to show encrypted
 * payloads to operators. Protected by the admin token unless configured for a loopback dev setup.
 */
const codecRoutes: FastifyPluginAsyncZod<{ requiresAuth: boolean; corsOrigin?: string }> = async (
  app,
  { requiresAuth, corsOrigin },
) => {
  if (corsOrigin) {
    // On every answer, refusals included, so the Web UI can read why it was refused.
    app.addHook('onSend', async (_req, reply, payload) => {
      reply.header('access-control-allow-origin', corsOrigin);
      reply.header('access-control-allow-headers', 'content-type,authorization,x-namespace');
      reply.header('access-control-allow-credentials', 'true');
      return payload;
    });
  }
  for (const op of ['encode', 'decode'] as const) {
    // A browser's preflight carries no credentials: it is answered to anyone.
    app.options(
      `/v1/codec/${op}`,
      {
        config: { auth: 'public' },
        schema: {
          operationId: `${op}PayloadsPreflight`,
          tags: ['codec'],
          response: { 204: z.null().describe('CORS preflight answered') },
        },
      },
      async (_req, reply) => reply.code(204).send(null),
    );
    app.post(
      `/v1/codec/${op}`,
      {
        config: { auth: requiresAuth ? 'admin' : 'public' },
        schema: {
          operationId: `${op}Payloads`,
          tags: ['codec'],
          description: `${op === 'encode' ? 'Encrypts' : 'Decrypts'} Temporal payloads with the platform's payload codec.`,
          body: Payloads,
          response: { 200: Payloads, ...errorResponses() },
        },
      },
      async (req) => app.codec[op](req.body.payloads),
    );
  }
};

export default fp(codecRoutes, {
  name: 'codec-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'codec-service'],
});
