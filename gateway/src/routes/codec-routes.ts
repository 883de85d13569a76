import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from './schemas';
import { GatewayError, GatewayErrorCode } from '../errors';
import { isLoopbackHost } from '../config';

/** Temporal's remote codec protocol: payloads as JSON with base64 metadata values and data. */
const JsonPayload = z.object({ metadata: z.record(z.string(), z.string()).default({}), data: z.string().default('') });
const Payloads = z.object({ payloads: z.array(JsonPayload).max(10_000) });

/**
 * The codec endpoint the Temporal Web UI (and `temporal --codec-endpoint`) calls to show encrypted
 * payloads to operators. Decode only: an `encode` endpoint would encrypt whatever a caller sends with
 * the platform's key, an oracle for forging inputs (the UI needs encode only to start or signal
 * workflows by hand, which the platform's workflows do not accept). Protected by the admin token,
 * unless configured for a loopback dev setup: then only loopback callers naming an allowed Host.
 */
const codecRoutes: FastifyPluginAsyncZod<{
  requiresAuth: boolean;
  corsOrigin?: string;
  allowedHosts?: string[];
}> = async (app, { requiresAuth, corsOrigin, allowedHosts }) => {
  // A DNS-rebinding page reaches us under its own name: the Host header gives it away.
  app.addHook('onRequest', async (req) => {
    const host = hostName(req.headers.host);
    if (allowedHosts && !allowedHosts.includes(host))
      throw new GatewayError(
        GatewayErrorCode.forbidden,
        `the codec endpoint does not answer to Host ${JSON.stringify(host)} (VSC_CODEC_ALLOWED_HOSTS)`,
      );
    // Without a credential, the network is the only boundary: loopback callers only.
    if (!requiresAuth && !isLoopbackHost(req.socket.remoteAddress ?? ''))
      throw new GatewayError(GatewayErrorCode.forbidden, 'VSC_CODEC_AUTH=none serves loopback callers only');
  });
  if (corsOrigin) {
    // On every answer, refusals included, so the Web UI can read why it was refused.
    app.addHook('onSend', async (_req, reply, payload) => {
      reply.header('access-control-allow-origin', corsOrigin);
      reply.header('access-control-allow-headers', 'content-type,authorization,x-namespace');
      reply.header('access-control-allow-credentials', 'true');
      return payload;
    });
  }
  // A browser's preflight carries no credentials: it is answered to anyone.
  app.options(
    '/v1/codec/decode',
    {
      config: { auth: 'public' },
      schema: {
        operationId: 'decodePayloadsPreflight',
        tags: ['codec'],
        response: { 204: z.null().describe('CORS preflight answered') },
      },
    },
    async (_req, reply) => reply.code(204).send(null),
  );
  app.post(
    '/v1/codec/decode',
    {
      config: { auth: requiresAuth ? 'admin' : 'public' },
      schema: {
        operationId: 'decodePayloads',
        tags: ['codec'],
        description: "Decrypts Temporal payloads with the platform's payload codec, for the Temporal Web UI and CLI.",
        body: Payloads,
        response: { 200: Payloads, ...errorResponses(403) },
      },
    },
    async (req) => app.codec.decode(req.body.payloads),
  );
};

/** The name of a Host header, lower-cased, without its port (IPv6 literals without brackets). */
function hostName(header: string | undefined): string {
  const h = (header ?? '').trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  return h.replace(/:\d+$/, '');
}

export default fp(codecRoutes, {
  name: 'codec-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'codec-service'],
});
