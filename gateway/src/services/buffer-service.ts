import fp from 'fastify-plugin';
import { BufferError, BufferErrorCode, type DataBuffer } from '@vansales/buffer';
import type { BufferCommitBody, BufferCommitted, BufferManifest } from '@vansales/protocol';

/** The buffer as agents use it through the gateway: objects appear with their first chunk. */
export function createBufferService(deps: { buffer: DataBuffer }) {
  const { buffer } = deps;
  return {
    /** The largest chunk a request may carry. */
    maxChunkBytes: buffer.maxChunkBytes,

    /** Writes (or rewrites) one chunk of an uncommitted object; creates the object on first use. */
    async writeChunk(tenantId: string, objectId: string, index: number, body: Buffer, rows: number) {
      try {
        return await buffer.writeChunk(tenantId, objectId, index, body, rows);
      } catch (err) {
        if (!(err instanceof BufferError && err.code === BufferErrorCode.notFound)) throw err;
        // First chunk of a new object (or of an object whose creator we never heard of): create it, idempotently.
        await buffer.createObject(tenantId, { objectId });
        return buffer.writeChunk(tenantId, objectId, index, body, rows);
      }
    },

    /** Seals the object; repeating the same commit is harmless. */
    async commit(tenantId: string, objectId: string, body: BufferCommitBody): Promise<BufferCommitted> {
      if (body.chunkCount === 0) {
        // An extract that found no rows writes no chunk: its (empty) object is created here.
        await buffer.createObject(tenantId, { objectId }).catch((err: unknown) => {
          if (!(err instanceof BufferError && err.code === BufferErrorCode.alreadyCommitted)) throw err;
        });
      }
      const m = await buffer.commit(tenantId, objectId, body);
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

    async manifest(tenantId: string, objectId: string): Promise<BufferManifest> {
      const { tenantId: _tenantId, ...manifest } = await buffer.readManifest(tenantId, objectId);
      return manifest;
    },

    /** One chunk's verified plaintext. */
    readChunk(tenantId: string, objectId: string, index: number) {
      return buffer.readChunk(tenantId, objectId, index);
    },
  };
}
export type BufferService = ReturnType<typeof createBufferService>;

declare module 'fastify' {
  interface FastifyInstance {
    bufferService: BufferService;
  }
}

export const bufferServicePlugin = fp<{ buffer: DataBuffer }>(
  async (app, deps) => void app.decorate('bufferService', createBufferService(deps)),
  { name: 'buffer-service', fastify: '5.x' },
);
