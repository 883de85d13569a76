import { z } from 'zod';

/**
 * The buffer's HTTP contract between the gateway (which serves it) and the agent (which calls it
 * with a `BufferGrant`): paths, headers, bodies. Both sides import these, so neither retypes them.
 */

export const BUFFER_OBJECT_ID_PATTERN = /^[A-Za-z0-9_-]{8,128}$/;
export const BufferObjectId = z
  .string()
  .regex(BUFFER_OBJECT_ID_PATTERN, 'buffer object ids are 8-128 letters, digits, _ or -');

/** Where every buffer object's routes live on the gateway. */
export const BUFFER_ROUTES_PREFIX = '/v1/buffer/objects';

/** Headers of the buffer routes, besides `Authorization: Bearer <grant token>`. */
export const BufferHeader = {
  /** On a chunk upload: how many rows the chunk holds (decimal). */
  rows: 'x-vsc-rows',
} as const;

/** Chunks go up and come down as raw bytes of this type. */
export const BUFFER_CHUNK_CONTENT_TYPE = 'application/octet-stream';

/** Paths of one object's routes (the object id is URL-safe by its pattern; encoded all the same). */
export const bufferPaths = {
  object: (objectId: string) => `${BUFFER_ROUTES_PREFIX}/${encodeURIComponent(objectId)}`,
  chunk: (objectId: string, index: number) => `${bufferPaths.object(objectId)}/chunks/${index}`,
  commit: (objectId: string) => `${bufferPaths.object(objectId)}/commit`,
  schema: (objectId: string) => `${bufferPaths.object(objectId)}/schema`,
  manifest: (objectId: string) => `${bufferPaths.object(objectId)}/manifest`,
};

/**
 * Added to a task by the gateway just before it is sent to the agent, never stored in Temporal:
 * an object-scoped token, valid for minutes, for the gateway's buffer endpoints. The agent uses
 * it against the origin of its own gateway only (the routes are `bufferPaths.*(objectId)`).
 */
export const BufferGrant = z.object({
  objectId: BufferObjectId,
  token: z.string().min(16).max(4096),
  scope: z.enum(['read', 'write']),
  expiresAt: z.string().max(64),
});
export type BufferGrant = z.infer<typeof BufferGrant>;

/** Body of `POST …/:objectId/commit`: seals chunks 0..chunkCount-1. */
export const BufferCommitBody = z.object({
  schema: z.unknown().refine((v) => v !== undefined, 'required'),
  /** The buffer bounds it further (its MAX_CHUNKS). */
  chunkCount: z.number().int().min(0),
  rowCount: z.number().int().min(0),
  meta: z.unknown().optional(),
});
export type BufferCommitBody = z.infer<typeof BufferCommitBody>;

/**
 * Body of `PUT …/:objectId/schema`: the rows' schema, published by the writer before its first
 * chunk so a reader following the object can prepare its destination; the commit repeats it.
 */
export const BufferSchemaBody = z.object({ schema: z.unknown().refine((v) => v !== undefined, 'required') });
export type BufferSchemaBody = z.infer<typeof BufferSchemaBody>;

/** One stored chunk, as the gateway reports it. */
export const BufferChunkInfo = z.object({ index: z.number(), rows: z.number(), bytes: z.number(), sha256: z.string() });
export type BufferChunkInfo = z.infer<typeof BufferChunkInfo>;

/** Answer of `POST …/:objectId/commit`. */
export const BufferCommitted = z.object({
  objectId: z.string(),
  rowCount: z.number(),
  chunkCount: z.number(),
  bytes: z.number(),
  createdAt: z.string(),
  committedAt: z.string(),
  expiresAt: z.string(),
});
export type BufferCommitted = z.infer<typeof BufferCommitted>;

/** Answer of `GET …/:objectId/manifest`: schema, row counts, chunks with sizes and SHA-256, expiry. */
export const BufferManifest = z.object({
  objectId: z.string().regex(BUFFER_OBJECT_ID_PATTERN),
  schema: z.unknown(),
  rowCount: z.number(),
  chunks: z.array(BufferChunkInfo),
  createdAt: z.string(),
  committedAt: z.string(),
  expiresAt: z.string(),
  meta: z.unknown().optional(),
});
export type BufferManifest = z.infer<typeof BufferManifest>;
