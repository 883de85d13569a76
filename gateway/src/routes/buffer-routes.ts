import fp from 'fastify-plugin';
import type { FastifyError } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BufferError, BufferErrorCode, MAX_CHUNKS, MAX_DESCRIPTION_BYTES, OBJECT_ID_PATTERN } from '@vansales/buffer';
import {
  BUFFER_CHUNK_CONTENT_TYPE,
  BUFFER_ROUTES_PREFIX,
  BufferChunkInfo,
  BufferCommitBody,
  BufferCommitted,
  BufferHeader,
  BufferManifest,
  BufferSchemaBody,
} from '@vansales/protocol';
import { tenantOf } from '../http/auth';
import { GatewayError, GatewayErrorCode } from '../errors';
import { Binary, errorResponses } from './schemas';

const ObjectParams = z.object({
  objectId: z.string().regex(OBJECT_ID_PATTERN, 'object ids are 8-128 letters, digits, _ or -'),
});
const ChunkParams = ObjectParams.extend({
  index: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_CHUNKS - 1),
});
const errors = errorResponses(403, 404, 409, 410, 413, 415, 422, 429);

/**
 * The buffer over HTTP, for agents: each request carries `Authorization: Bearer <buffer token>`
 * (never in the URL, which proxies log) naming one object and a scope; the auth hook checks it
 * before a chunk body is read. Chunks are raw application/octet-stream bodies. The contract
 * (paths, headers, bodies) is `buffer-http` in @vansales/protocol, which the agent's client uses too.
 */
const bufferRoutes: FastifyPluginAsyncZod<{
  maxInFlightChunks?: number;
  maxInFlightChunksPerTenant?: number;
  /** Whether an agent session is still live on some gateway node (grants die with their session). */
  sessionAlive?: (connectorId: string, sessionId: string) => Promise<boolean>;
}> = async (app, { maxInFlightChunks = 16, maxInFlightChunksPerTenant = maxInFlightChunks, sessionAlive }) => {
  const buffer = app.bufferService;

  // After the auth hook (registered on the root): a grant made for an agent session is refused once
  // that session has ended (disconnect, revoke, lost lease), on whichever node the request lands.
  app.addHook('onRequest', async (req) => {
    const principal = req.principal;
    if (principal?.kind !== 'buffer' || !principal.claims.sessionId || !sessionAlive) return;
    let alive: boolean;
    try {
      alive = await sessionAlive(principal.claims.connectorId, principal.claims.sessionId);
    } catch {
      throw new GatewayError(
        GatewayErrorCode.unavailable,
        'the gateway cannot check that the agent session of this grant is still live (Redis unreachable); try again shortly',
      );
    }
    if (!alive)
      throw new BufferError(
        BufferErrorCode.unauthorized,
        'this buffer grant belonged to an agent session that has ended; the task is retried with a new grant',
        { reason: 'session-ended' },
      );
  });
  app.addContentTypeParser(
    BUFFER_CHUNK_CONTENT_TYPE,
    { parseAs: 'buffer', bodyLimit: buffer.maxChunkBytes },
    (_req, body, done) => done(null, body),
  );

  // Each chunk request holds up to two chunks in memory; this bounds how many run at once, so a
  // crowd of agents cannot push the gateway past its memory, and how many one tenant holds, so one
  // tenant's slow uploads cannot starve the others. The agent waits and tries again.
  let chunksInFlight = 0;
  const perTenant = new Map<string, number>();
  app.addHook('onRequest', async (req, reply) => {
    if (!req.routeOptions.url?.endsWith('/chunks/:index')) return;
    // The auth hook ran first: the token named the tenant.
    const tenantId = tenantOf(req);
    const tenantInFlight = perTenant.get(tenantId) ?? 0;
    if (chunksInFlight >= maxInFlightChunks || tenantInFlight >= maxInFlightChunksPerTenant) {
      reply.header('retry-after', '1');
      throw new GatewayError(
        GatewayErrorCode.unavailable,
        chunksInFlight >= maxInFlightChunks
          ? `the gateway is moving ${chunksInFlight} chunks already; try again in a moment`
          : `this tenant is moving ${tenantInFlight} chunks already; try again in a moment`,
      );
    }
    chunksInFlight += 1;
    perTenant.set(tenantId, tenantInFlight + 1);
    let released = false;
    reply.raw.once('close', () => {
      if (released) return;
      released = true;
      chunksInFlight -= 1;
      const left = (perTenant.get(tenantId) ?? 1) - 1;
      if (left > 0) perTenant.set(tenantId, left);
      else perTenant.delete(tenantId);
    });
  });

  // Fastify's own "body too large" becomes the buffer's TOO_LARGE; everything goes on to the app's handler.
  app.setErrorHandler((err: FastifyError) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      throw new BufferError(BufferErrorCode.tooLarge, `a chunk is at most ${buffer.maxChunkBytes} bytes; split it`, {
        max: buffer.maxChunkBytes,
      });
    }
    throw err;
  });

  app.put(
    `${BUFFER_ROUTES_PREFIX}/:objectId/chunks/:index`,
    {
      bodyLimit: buffer.maxChunkBytes,
      config: { auth: { buffer: 'write' } },
      schema: {
        operationId: 'putBufferChunk',
        tags: ['buffer'],
        description: 'Writes (or rewrites) one chunk of an uncommitted object; creates the object on first use.',
        consumes: [BUFFER_CHUNK_CONTENT_TYPE],
        params: ChunkParams,
        headers: z.looseObject({
          [BufferHeader.rows]: z
            .string()
            .regex(/^\d{1,15}$/, 'the number of rows in this chunk')
            .transform(Number)
            .describe('rows in this chunk'),
        }),
        // Checked in the handler, so a JSON body gets the buffer's own BAD_INPUT.
        body: Binary,
        response: { 200: BufferChunkInfo, ...errors },
      },
    },
    async (req) => {
      const { objectId, index } = req.params;
      const body = req.body;
      if (!Buffer.isBuffer(body))
        throw new BufferError(BufferErrorCode.badInput, `send the chunk as Content-Type: ${BUFFER_CHUNK_CONTENT_TYPE}`);
      return buffer.writeChunk(tenantOf(req), objectId, index, body, req.headers[BufferHeader.rows]);
    },
  );

  app.put(
    `${BUFFER_ROUTES_PREFIX}/:objectId/schema`,
    {
      bodyLimit: MAX_DESCRIPTION_BYTES + 64 * 1024,
      config: { auth: { buffer: 'write' } },
      schema: {
        operationId: 'publishBufferSchema',
        tags: ['buffer'],
        description:
          "Publishes the rows' schema before the first chunk, so a load can follow the object while it is written; the commit must repeat it. Creates the object on first use; publishing the same schema again is harmless.",
        params: ObjectParams,
        body: BufferSchemaBody,
        response: { 204: z.null().describe('published'), ...errors },
      },
    },
    async (req, reply) => {
      await buffer.publishSchema(tenantOf(req), req.params.objectId, req.body.schema);
      return reply.code(204).send(null);
    },
  );

  app.post(
    `${BUFFER_ROUTES_PREFIX}/:objectId/commit`,
    {
      bodyLimit: 2 * MAX_DESCRIPTION_BYTES + 64 * 1024,
      config: { auth: { buffer: 'write' } },
      schema: {
        operationId: 'commitBufferObject',
        tags: ['buffer'],
        description: 'Seals the object once chunks 0..chunkCount-1 are written; repeating the same commit is harmless.',
        params: ObjectParams,
        body: BufferCommitBody.extend({ chunkCount: BufferCommitBody.shape.chunkCount.max(MAX_CHUNKS) }),
        response: { 200: BufferCommitted, ...errors },
      },
    },
    async (req) => buffer.commit(tenantOf(req), req.params.objectId, req.body),
  );

  app.get(
    `${BUFFER_ROUTES_PREFIX}/:objectId/manifest`,
    {
      config: { auth: { buffer: 'read' } },
      schema: {
        operationId: 'getBufferManifest',
        tags: ['buffer'],
        description: 'The manifest of a committed object: schema, row counts, chunks with sizes and SHA-256, expiry.',
        params: ObjectParams,
        response: { 200: BufferManifest, ...errors },
      },
    },
    async (req) => buffer.manifest(tenantOf(req), req.params.objectId),
  );

  app.get(
    `${BUFFER_ROUTES_PREFIX}/:objectId/chunks/:index`,
    {
      config: { auth: { buffer: 'read' } },
      schema: {
        operationId: 'getBufferChunk',
        tags: ['buffer'],
        description: 'One chunk of a committed object: the verified plaintext bytes.',
        params: ChunkParams,
        // Raw bytes, which fastify sends as they are (a Buffer is never serialised).
        response: {
          200: { description: 'the chunk', content: { [BUFFER_CHUNK_CONTENT_TYPE]: { schema: Binary } } },
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const bytes = await buffer.readChunk(tenantOf(req), req.params.objectId, req.params.index);
      return reply.type(BUFFER_CHUNK_CONTENT_TYPE).send(bytes);
    },
  );
};

export default fp(bufferRoutes, {
  name: 'buffer-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'buffer-service'],
});
