import fp from 'fastify-plugin';
import { BufferError, BufferErrorCode, type DataBuffer, type FollowOptions } from '@vansales/buffer';
import type { BufferLimits, BufferUsage } from '@vansales/metadata';
import { GatewayError, GatewayErrorCode } from '../errors';
import type { BufferCommitBody, BufferCommitted, BufferManifest } from '@vansales/protocol';

const GiB = 1024 ** 3;
const size = (bytes: number) =>
  bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

export interface BufferServiceDeps {
  buffer: DataBuffer;
  /** Byte accounting (the metadata store); without it no byte quota is enforced. */
  usage?: BufferUsage;
  /** Per tenant: the byte quota is the quota service's bufferBytes (a REST override may change it any time). */
  limits?: (tenantId: string) => BufferLimits | Promise<BufferLimits>;
  now?: () => number;
}

/** The buffer as agents use it through the gateway: objects appear with their first chunk. */
export function createBufferService(deps: BufferServiceDeps) {
  const { buffer, usage, limits } = deps;
  const now = deps.now ?? Date.now;

  /**
   * Counts the chunk against the object's and the tenant's byte limits before it is stored. The
   * count is durable and shared by gateway nodes; an object's bytes count until it expires (its
   * expiry is at most the buffer's longest lifetime from now).
   */
  async function reserve(tenantId: string, objectId: string, index: number, bytes: number): Promise<void> {
    if (!usage || !limits) return;
    const expiresAt = new Date(now() + buffer.maxTtlSeconds * 1000);
    const check = await usage.reserveChunk(tenantId, objectId, index, bytes, expiresAt, await limits(tenantId));
    if (check.ok) return;
    if (check.limit === 'object') {
      throw new BufferError(
        BufferErrorCode.tooLarge,
        `buffer object ${objectId} would hold ${size(check.usedBytes + bytes)}; an object holds at most ${size(check.maxBytes)} (VSC_BUFFER_MAX_OBJECT_BYTES): split the data into several objects`,
        { max: check.maxBytes, used: check.usedBytes },
      );
    }
    const retryAfterSeconds = check.freesAt
      ? Math.max(1, Math.ceil((check.freesAt.getTime() - now()) / 1000))
      : buffer.maxTtlSeconds;
    throw new GatewayError(
      GatewayErrorCode.quotaExceeded,
      `tenant ${tenantId} holds ${size(check.usedBytes)} in the buffer; its quota is ${size(check.maxBytes)}. Space frees as objects expire (the first in ${retryAfterSeconds} s); an owner or admin of the tenant can raise its bufferBytes quota (PUT /v1/tenants/${tenantId}/quotas), an operator the default (VSC_BUFFER_TENANT_QUOTAS)`,
      {
        quota: 'bufferBytes',
        limit: check.maxBytes,
        used: check.usedBytes,
        raisedBy: 'an owner or admin of the tenant (PUT /v1/tenants/:tenantId/quotas)',
        quotaBytes: check.maxBytes,
        usedBytes: check.usedBytes,
        retryAfterSeconds,
      },
    );
  }

  return {
    /** The largest chunk a request may carry. */
    maxChunkBytes: buffer.maxChunkBytes,

    /** Writes (or rewrites) one chunk of an uncommitted object; creates the object on first use. */
    async writeChunk(tenantId: string, objectId: string, index: number, body: Buffer, rows: number) {
      await reserve(tenantId, objectId, index, body.length);
      try {
        return await buffer.writeChunk(tenantId, objectId, index, body, rows);
      } catch (err) {
        if (!(err instanceof BufferError && err.code === BufferErrorCode.notFound)) throw err;
        // First chunk of a new object (or of an object whose creator we never heard of): create it, idempotently.
        await buffer.createObject(tenantId, { objectId });
        return buffer.writeChunk(tenantId, objectId, index, body, rows);
      }
    },

    /** Publishes the rows' schema before the first chunk, for followers; creates the object on first use. */
    async publishSchema(tenantId: string, objectId: string, schema: unknown): Promise<void> {
      try {
        await buffer.publishSchema(tenantId, objectId, schema);
      } catch (err) {
        if (!(err instanceof BufferError && err.code === BufferErrorCode.notFound)) throw err;
        await buffer.createObject(tenantId, { objectId });
        await buffer.publishSchema(tenantId, objectId, schema);
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

    /** Reads the object while its writer stores it (the buffer's followObject and its checks). */
    follow(tenantId: string, objectId: string, options: FollowOptions) {
      return buffer.followObject(tenantId, objectId, options);
    },
  };
}
export type BufferService = ReturnType<typeof createBufferService>;

declare module 'fastify' {
  interface FastifyInstance {
    bufferService: BufferService;
  }
}

export const bufferServicePlugin = fp<BufferServiceDeps>(
  async (app, deps) => void app.decorate('bufferService', createBufferService(deps)),
  { name: 'buffer-service', fastify: '5.x' },
);
