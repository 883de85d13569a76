import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import fp from 'fastify-plugin';
import type { FastifyError, FastifyRequest } from 'fastify';
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
  BUFFER_FOLLOW_CONTENT_TYPE,
  BufferFollowQuery,
  encodeFollowFrame,
  readerTakesZstd,
  type FollowFrame,
} from '@vansales/protocol';
import { chunkAsGzip } from '@vansales/dataflow/chunk-codec';
import { tenantOf } from '../http/auth';
import { BUFFER_HTTP_STATUS, GatewayError, GatewayErrorCode } from '../errors';
import type { BufferService } from '../services/buffer-service';
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
    `${BUFFER_ROUTES_PREFIX}/:objectId/follow`,
    {
      config: { auth: { buffer: 'read' } },
      schema: {
        operationId: 'followBufferObject',
        tags: ['buffer'],
        description:
          'Streams an object while its writer still stores it: the published schema, then each chunk as it is stored (verified), then `sealed` once the manifest matched every chunk sent, as length-prefixed frames (`FollowFrame` in @vansales/protocol). Waits up to createTimeoutSeconds for the object to be created.',
        params: ObjectParams,
        querystring: BufferFollowQuery,
        response: {
          200: { description: 'the frames', content: { [BUFFER_FOLLOW_CONTENT_TYPE]: { schema: Binary } } },
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const stream = followStream(
        req,
        buffer,
        req.params.objectId,
        req.query.createTimeoutSeconds * 1000,
        sessionAlive,
      );
      return reply.type(BUFFER_FOLLOW_CONTENT_TYPE).header('cache-control', 'no-store').send(stream);
    },
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
      return reply.type(BUFFER_CHUNK_CONTENT_TYPE).send(await asReaderTakes(req, bytes));
    },
  );
};

/**
 * A verified chunk in a compression its reader decodes: as stored for a reader that takes zstd (it
 * says so in `x-vsc-chunk-codecs`), else recompressed as gzip (an agent of an earlier version).
 */
async function asReaderTakes(req: FastifyRequest, bytes: Buffer): Promise<Buffer> {
  if (readerTakesZstd(req.headers[BufferHeader.chunkCodecs])) return bytes;
  try {
    return await chunkAsGzip(bytes);
  } catch {
    // Not a chunk of ours (an object another writer filled with other bytes): the reader's own check says so.
    return bytes;
  }
}

/** A follow answer that has sent nothing for this long sends a `wait` frame (proxies cut silent answers). */
const FOLLOW_KEEPALIVE_MS = 5_000;
/** How often a long follow checks again that the grant's agent session is still live. */
const FOLLOW_SESSION_CHECK_MS = 10_000;

/**
 * The frames of one follow answer (see `FollowFrame` in @vansales/protocol), written to a stream
 * that waits for the agent to take each chunk before the next is read: at most one chunk is held.
 * Failures after the answer started are an `error` frame in the buffer's error shape.
 */
function followStream(
  req: FastifyRequest,
  buffer: BufferService,
  objectId: string,
  createTimeoutMs: number,
  sessionAlive?: (connectorId: string, sessionId: string) => Promise<boolean>,
): PassThrough {
  const tenantId = tenantOf(req);
  const claims = req.principal?.kind === 'buffer' ? req.principal.claims : undefined;
  const out = new PassThrough({ highWaterMark: 64 * 1024 });
  const abort = new AbortController();
  out.once('close', () => abort.abort(new Error('the follower went away')));
  let lastWrite = Date.now();
  const write = async (frame: FollowFrame, body?: Buffer) => {
    lastWrite = Date.now();
    for (const part of encodeFollowFrame(frame, body))
      if (!out.write(part)) await once(out, 'drain', { signal: abort.signal });
  };
  let lastSessionCheck = Date.now();
  const assertSessionLive = async () => {
    if (!sessionAlive || !claims?.sessionId || Date.now() - lastSessionCheck < FOLLOW_SESSION_CHECK_MS) return;
    lastSessionCheck = Date.now();
    if (!(await sessionAlive(claims.connectorId, claims.sessionId)))
      throw new BufferError(
        BufferErrorCode.unauthorized,
        'this buffer grant belonged to an agent session that has ended; the task is retried with a new grant',
        { reason: 'session-ended' },
      );
  };
  const follower = buffer.follow(tenantId, objectId, {
    signal: abort.signal,
    createTimeoutMs,
    onWait: () => {
      // A tiny frame; the stream's own buffer takes it whatever the agent's pace.
      if (Date.now() - lastWrite >= FOLLOW_KEEPALIVE_MS && !out.destroyed) {
        lastWrite = Date.now();
        for (const part of encodeFollowFrame({ t: 'wait' })) out.write(part);
      }
    },
  });
  void (async () => {
    try {
      await write({ t: 'schema', schema: await follower.schema() });
      for await (const chunk of follower) {
        await assertSessionLive();
        const bytes = await asReaderTakes(req, chunk.bytes);
        await write({ t: 'chunk', index: chunk.index, rows: chunk.rows, bytes: bytes.length }, bytes);
      }
      const manifest = follower.manifest!;
      await write({ t: 'sealed', chunkCount: manifest.chunks.length, rowCount: manifest.rowCount });
    } catch (err) {
      if (abort.signal.aborted) return;
      if (err instanceof BufferError) {
        const status = BUFFER_HTTP_STATUS[err.code];
        if (status >= 500) req.log.error({ code: err.code, err: err.message }, 'buffer failure while following');
        const message = status >= 500 ? 'internal error; see the gateway log' : err.message;
        out.write(Buffer.concat(encodeFollowFrame({ t: 'error', code: err.code, message, status })));
      } else {
        req.log.error({ err }, 'failure while following a buffer object');
        const message = 'internal error; see the gateway log';
        out.write(
          Buffer.concat(encodeFollowFrame({ t: 'error', code: GatewayErrorCode.internal, message, status: 500 })),
        );
      }
    } finally {
      // A follower that went away destroyed the stream: nothing more to end.
      if (!out.destroyed) out.end();
    }
  })();
  return out;
}

export default fp(bufferRoutes, {
  name: 'buffer-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'buffer-service'],
});
