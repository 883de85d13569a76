import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import swagger from '@fastify/swagger';
import { serializerCompiler, validatorCompiler, jsonSchemaTransform, hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ServiceError, type Connection } from '@temporalio/client';
import { MAX_FRAME_BYTES } from '@vansales/protocol';
import type { Logger } from './logger';
import { BufferError, type DataBuffer } from '@vansales/buffer';
import { BUFFER_HTTP_STATUS, GatewayError, GatewayErrorCode, HTTP_STATUS } from './errors';
import type { ControlPlane } from './control-plane';
import type { AgentHub } from './agent-hub/agent-hub';
import { adminRoutes } from './routes/admin-routes';
import { agentSocketRoute } from './routes/agent-socket-route';
import { bearerToken, secretsEqual } from './routes/bearer';
import { codecRoutes } from './routes/codec-routes';
import { bufferRoutes } from './routes/buffer-routes';
import type { PayloadCodec } from '@temporalio/common';

export interface AppDeps {
  logger: Logger;
  adminToken: string;
  controlPlane: ControlPlane;
  hub: AgentHub;
  temporalConnection: Connection;
  maxFrameBytes?: number;
  /** PEM certificate and key; without them the gateway speaks plain HTTP (loopback, or behind a TLS proxy). */
  tls?: { cert: Buffer; key: Buffer };
  /** Sees every text frame agents send (tracing). */
  frameTap?: (raw: string) => void;
  /** The payload codec, served at /v1/codec/{encode,decode} for the Temporal Web UI and CLI. */
  payloadCodec?: PayloadCodec;
  codecRequiresAuth?: boolean;
  codecCorsOrigin?: string;
  /** The data buffer and the secret of its access tokens: serves /v1/buffer/objects/… to agents. */
  buffer?: { dataBuffer: DataBuffer; tokenSecret: Buffer; maxInFlightChunks?: number };
}

/** Builds the gateway as a fastify application; server.ts only listens. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: 1024 * 1024,
    ...(deps.tls ? { https: { cert: deps.tls.cert, key: deps.tls.key, minVersion: 'TLSv1.2' as const } } : {}),
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((err: FastifyError | GatewayError, req, reply) => {
    if (err instanceof GatewayError) {
      return reply.code(HTTP_STATUS[err.code]).send({ error: { code: err.code, message: err.message, ...err.details } });
    }
    if (err instanceof BufferError) {
      const status = BUFFER_HTTP_STATUS[err.code];
      if (status >= 500) {
        req.log.error({ code: err.code, err: err.message }, 'buffer failure');
        return reply.code(status).send({ error: { code: GatewayErrorCode.internal, message: 'internal error; see the gateway log' } });
      }
      return reply.code(status).send({ error: { code: err.code, message: err.message, ...err.details } });
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const message = err.validation.map((v) => `${v.instancePath || err.validationContext || 'body'}: ${v.message}`).join('; ');
      return reply.code(400).send({ error: { code: GatewayErrorCode.badRequest, message } });
    }
    if (err instanceof ServiceError) {
      // Temporal did not answer as expected: say so (retryable for the caller), log the detail.
      req.log.warn({ err: err.message }, 'Temporal call failed');
      return reply.code(503).send({ error: { code: GatewayErrorCode.unavailable, message: `the workflow service did not answer: ${err.message}` } });
    }
    const status = (err as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply.code(status).send({ error: { code: GatewayErrorCode.badRequest, message: err.message } });
    }
    req.log.error({ err }, 'unhandled error');
    return reply.code(500).send({ error: { code: GatewayErrorCode.internal, message: 'internal error; see the gateway log' } });
  });

  await app.register(swagger, {
    openapi: { info: { title: 'Vansales Connect gateway', version: '0.1.0' } },
    transform: jsonSchemaTransform,
  });
  await app.register(websocket, { options: { maxPayload: (deps.maxFrameBytes ?? MAX_FRAME_BYTES) * 2 } });

  app.get('/healthz', async () => {
    let temporal: 'ok' | 'unreachable' = 'ok';
    try {
      await deps.temporalConnection.workflowService.getSystemInfo({});
    } catch {
      temporal = 'unreachable';
    }
    return { status: temporal === 'ok' ? 'ok' : 'degraded', temporal, agentsConnected: deps.hub.size };
  });
  app.get('/openapi.json', async () => app.swagger());

  if (deps.payloadCodec) {
    await app.register(codecRoutes, { codec: deps.payloadCodec, adminToken: deps.codecRequiresAuth === false ? undefined : deps.adminToken, corsOrigin: deps.codecCorsOrigin });
  }

  if (deps.buffer) {
    await app.register(bufferRoutes, { buffer: deps.buffer.dataBuffer, tokenSecret: deps.buffer.tokenSecret, maxInFlightChunks: deps.buffer.maxInFlightChunks });
  }

  await app.register(agentSocketRoute, { hub: deps.hub, controlPlane: deps.controlPlane, maxFrameBytes: deps.maxFrameBytes, frameTap: deps.frameTap });

  await app.register(async (admin) => {
    admin.addHook('onRequest', async (req) => {
      const token = bearerToken(req.headers.authorization);
      if (!token || !secretsEqual(token, deps.adminToken)) {
        throw new GatewayError(GatewayErrorCode.unauthorized, 'this endpoint needs Authorization: Bearer <admin token>');
      }
    });
    await admin.register(adminRoutes, { controlPlane: deps.controlPlane });
  });

  return app;
}
