import type { FastifyPluginAsync } from 'fastify';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { GatewayError, GatewayErrorCode } from '../errors';
import { bearerToken, secretsEqual } from './bearer';

/** Temporal's remote codec protocol: payloads as JSON with base64 metadata values and data. */
const JsonPayload = z.object({ metadata: z.record(z.string(), z.string()).default({}), data: z.string().default('') });
const Body = z.object({ payloads: z.array(JsonPayload).max(10_000) });

const fromJson = (p: z.infer<typeof JsonPayload>): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});
const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/**
 * The codec endpoint the Temporal Web UI (and `temporal --codec-endpoint`) calls to show encrypted
 * payloads to operators. Protected by the admin token unless configured for a loopback dev setup.
 */
export const codecRoutes: FastifyPluginAsync<{ codec: PayloadCodec; adminToken?: string; corsOrigin?: string }> = async (app, { codec, adminToken, corsOrigin }) => {
  app.addHook('onRequest', async (req, reply) => {
    if (corsOrigin) {
      reply.header('access-control-allow-origin', corsOrigin);
      reply.header('access-control-allow-headers', 'content-type,authorization,x-namespace');
      reply.header('access-control-allow-credentials', 'true');
      if (req.method === 'OPTIONS') return reply.code(204).send();
    }
    if (adminToken) {
      const token = bearerToken(req.headers.authorization);
      if (!token || !secretsEqual(token, adminToken)) throw new GatewayError(GatewayErrorCode.unauthorized, 'the codec endpoint needs Authorization: Bearer <admin token>');
    }
  });
  for (const op of ['encode', 'decode'] as const) {
    app.options(`/v1/codec/${op}`, async (_req, reply) => reply.code(204).send());
    app.post(`/v1/codec/${op}`, async (req) => {
      const parsed = Body.safeParse(req.body);
      if (!parsed.success) throw new GatewayError(GatewayErrorCode.badRequest, `expected { payloads: [{ metadata, data }] }: ${parsed.error.issues[0]?.message}`);
      try {
        const out = await codec[op](parsed.data.payloads.map(fromJson));
        return { payloads: out.map(toJson) };
      } catch (err) {
        throw new GatewayError(GatewayErrorCode.badRequest, (err as Error).message);
      }
    });
  }
};
