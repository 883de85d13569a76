import type { FastifyError, FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  assertTokenCovers,
  BufferError,
  BufferErrorCode,
  MAX_CHUNKS,
  MAX_DESCRIPTION_BYTES,
  OBJECT_ID_PATTERN,
  verifyBufferToken,
  type BufferTokenClaims,
  type BufferTokenScope,
  type DataBuffer,
} from '@vansales/buffer';
import { BUFFER_ROUTES_PREFIX } from '../buffer-access';
import { GatewayError, GatewayErrorCode } from '../errors';
import { bearerToken } from './bearer';

declare module 'fastify' {
  interface FastifyRequest {
    bufferClaims?: BufferTokenClaims;
  }
  interface FastifyContextConfig {
    /** What a buffer token must allow for this route. */
    bufferScope?: BufferTokenScope;
  }
}

const ObjectParams = z.object({ objectId: z.string().regex(OBJECT_ID_PATTERN, 'object ids are 8-128 letters, digits, _ or -') });
const ChunkParams = ObjectParams.extend({ index: z.coerce.number().int().min(0).max(MAX_CHUNKS - 1) });
const ChunkInfo = z.object({ index: z.number(), rows: z.number(), bytes: z.number(), sha256: z.string() });
const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }).loose() });
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 410: ErrorBody, 413: ErrorBody, 422: ErrorBody };
const json = z.unknown().refine((v) => v !== undefined, 'required');

/**
 * The buffer over HTTP, for agents: each request carries `Authorization: Bearer <buffer token>`
 * (never in the URL, which proxies log) naming one object and a scope. The token is checked in
 * onRequest, before a chunk body is read. Chunks are raw application/octet-stream bodies.
 */
export const bufferRoutes: FastifyPluginAsync<{ buffer: DataBuffer; tokenSecret: Buffer; maxInFlightChunks?: number }> = async (app, { buffer, tokenSecret, maxInFlightChunks = 16 }) => {
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: buffer.maxChunkBytes }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req) => {
    const scope = req.routeOptions.config.bufferScope;
    if (!scope) return;
    const token = bearerToken(req.headers.authorization);
    if (!token) throw new BufferError(BufferErrorCode.unauthorized, 'this endpoint needs Authorization: Bearer <buffer token>', { reason: 'missing' });
    const claims = verifyBufferToken(tokenSecret, token);
    assertTokenCovers(claims, (req.params as { objectId?: string }).objectId ?? '', scope);
    req.bufferClaims = claims;
  });

  // Each chunk request holds up to two chunks in memory; this bounds how many run at once, so a
  // crowd of agents cannot push the gateway past its memory. The agent waits and tries again.
  let chunksInFlight = 0;
  app.addHook('onRequest', async (req, reply) => {
    if (!req.routeOptions.url?.endsWith('/chunks/:index')) return;
    if (chunksInFlight >= maxInFlightChunks) {
      reply.header('retry-after', '1');
      throw new GatewayError(GatewayErrorCode.unavailable, `the gateway is moving ${chunksInFlight} chunks already; try again in a moment`);
    }
    chunksInFlight += 1;
    let released = false;
    reply.raw.once('close', () => {
      if (!released) chunksInFlight -= 1;
      released = true;
    });
  });

  // Fastify's own "body too large" becomes the buffer's TOO_LARGE; everything goes on to the app's handler.
  app.setErrorHandler((err: FastifyError) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      throw new BufferError(BufferErrorCode.tooLarge, `a chunk is at most ${buffer.maxChunkBytes} bytes; split it`, { max: buffer.maxChunkBytes });
    }
    throw err;
  });

  const r = app.withTypeProvider<ZodTypeProvider>();
  const claimsOf = (req: { bufferClaims?: BufferTokenClaims }) => req.bufferClaims!;

  r.put(
    `${BUFFER_ROUTES_PREFIX}/:objectId/chunks/:index`,
    {
      bodyLimit: buffer.maxChunkBytes,
      config: { bufferScope: 'write' },
      schema: {
        description: 'Writes (or rewrites) one chunk of an uncommitted object; creates the object on first use.',
        params: ChunkParams,
        headers: z.looseObject({
          'x-vsc-rows': z
            .string()
            .regex(/^\d{1,15}$/, 'the number of rows in this chunk')
            .transform(Number)
            .describe('rows in this chunk'),
        }),
        response: { 200: ChunkInfo, ...errors },
      },
    },
    async (req) => {
      const { objectId, index } = req.params;
      const { tenantId } = claimsOf(req);
      const body = req.body;
      if (!Buffer.isBuffer(body)) throw new BufferError(BufferErrorCode.badInput, 'send the chunk as Content-Type: application/octet-stream');
      const rows = req.headers['x-vsc-rows'];
      try {
        return await buffer.writeChunk(tenantId, objectId, index, body, rows);
      } catch (err) {
        if (!(err instanceof BufferError && err.code === BufferErrorCode.notFound)) throw err;
        // First chunk of a new object (or of an object whose creator we never heard of): create it, idempotently.
        await buffer.createObject(tenantId, { objectId });
        return buffer.writeChunk(tenantId, objectId, index, body, rows);
      }
    },
  );

  r.post(
    `${BUFFER_ROUTES_PREFIX}/:objectId/commit`,
    {
      bodyLimit: 2 * MAX_DESCRIPTION_BYTES + 64 * 1024,
      config: { bufferScope: 'write' },
      schema: {
        description: 'Seals the object once chunks 0..chunkCount-1 are written; repeating the same commit is harmless.',
        params: ObjectParams,
        body: z.object({ schema: json, chunkCount: z.number().int().min(0).max(MAX_CHUNKS), rowCount: z.number().int().min(0), meta: z.unknown().optional() }),
        response: {
          200: z.object({ objectId: z.string(), rowCount: z.number(), chunkCount: z.number(), bytes: z.number(), createdAt: z.string(), committedAt: z.string(), expiresAt: z.string() }),
          ...errors,
        },
      },
    },
    async (req) => {
      const { tenantId } = claimsOf(req);
      if (req.body.chunkCount === 0) {
        // An extract that found no rows writes no chunk: its (empty) object is created here.
        await buffer.createObject(tenantId, { objectId: req.params.objectId }).catch((err: unknown) => {
          if (!(err instanceof BufferError && err.code === BufferErrorCode.alreadyCommitted)) throw err;
        });
      }
      const m = await buffer.commit(tenantId, req.params.objectId, req.body);
      return {
        objectId: m.objectId,
        rowCount: m.rowCount,
        chunkCount: m.chunks.length,
        bytes: m.chunks.reduce((n, c) => n + c.bytes, 0),
        createdAt: m.createdAt,
        committedAt: m.committedAt,
        expiresAt: m.expiresAt,
      };
    },
  );

  r.get(
    `${BUFFER_ROUTES_PREFIX}/:objectId/manifest`,
    {
      config: { bufferScope: 'read' },
      schema: {
        description: 'The manifest of a committed object: schema, row counts, chunks with sizes and SHA-256, expiry.',
        params: ObjectParams,
        response: {
          200: z.object({
            objectId: z.string(),
            schema: z.unknown(),
            rowCount: z.number(),
            chunks: z.array(ChunkInfo),
            createdAt: z.string(),
            committedAt: z.string(),
            expiresAt: z.string(),
            meta: z.unknown().optional(),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const { tenantId: _tenantId, ...manifest } = await buffer.readManifest(claimsOf(req).tenantId, req.params.objectId);
      return manifest;
    },
  );

  r.get(
    `${BUFFER_ROUTES_PREFIX}/:objectId/chunks/:index`,
    {
      config: { bufferScope: 'read' },
      // No response schema: the answer is raw bytes, which fastify sends as they are.
      schema: { description: 'One chunk of a committed object: the verified plaintext bytes (application/octet-stream).', params: ChunkParams },
    },
    async (req, reply) => {
      const bytes = await buffer.readChunk(claimsOf(req).tenantId, req.params.objectId, req.params.index);
      return reply.type('application/octet-stream').send(bytes);
    },
  );
};
