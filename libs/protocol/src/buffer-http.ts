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
  /**
   * On a chunk or follow request: the chunk compressions the reader decodes. A reader that does not
   * send it (an agent of an earlier version) is served every chunk as gzip.
   */
  chunkCodecs: 'x-vsc-chunk-codecs',
} as const;

/** What this version's readers decode: Zstandard (what chunks are written in) and gzip (earlier chunks). */
export const CHUNK_CODECS_ACCEPTED = 'zstd, gzip';

/** Whether a reader's `x-vsc-chunk-codecs` value takes zstd chunks as they are stored. */
export function readerTakesZstd(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value.split(',').some((codec) => codec.trim().toLowerCase() === 'zstd');
}

/** Chunks go up and come down as raw bytes of this type. */
export const BUFFER_CHUNK_CONTENT_TYPE = 'application/octet-stream';

/** Paths of one object's routes (the object id is URL-safe by its pattern; encoded all the same). */
export const bufferPaths = {
  object: (objectId: string) => `${BUFFER_ROUTES_PREFIX}/${encodeURIComponent(objectId)}`,
  chunk: (objectId: string, index: number) => `${bufferPaths.object(objectId)}/chunks/${index}`,
  commit: (objectId: string) => `${bufferPaths.object(objectId)}/commit`,
  schema: (objectId: string) => `${bufferPaths.object(objectId)}/schema`,
  manifest: (objectId: string) => `${bufferPaths.object(objectId)}/manifest`,
  follow: (objectId: string) => `${bufferPaths.object(objectId)}/follow`,
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

/**
 * `GET …/:objectId/follow` (read grant) streams an object while its writer still stores it, so a
 * load can start on the first stored chunk. The answer (this content type) is a sequence of frames:
 * a 4-byte big-endian length, that many bytes of a JSON `FollowFrame`, and for a `chunk` frame its
 * `bytes` bytes of verified plaintext. First the published `schema`, then each `chunk` in order,
 * `wait` while nothing new is stored (a keep-alive, at most every few seconds), and last `sealed`
 * once the manifest sealed every chunk handed out, or `error` (the gateway checks what the buffer's
 * followObject checks: a chunk rewritten after it was sent is `TAMPERED`).
 */
export const BUFFER_FOLLOW_CONTENT_TYPE = 'application/vnd.vansales.buffer-follow';

/** Query of the follow route: how long to wait for the writer to create the object (it may be queued). */
export const BufferFollowQuery = z.object({
  createTimeoutSeconds: z.coerce.number().int().min(0).max(86_400).default(0),
});

/** Largest chunk a follow frame carries (the buffer's own limit on a chunk). */
export const MAX_FOLLOW_CHUNK_BYTES = 32 * 1024 * 1024;
/** Largest JSON part of a frame (a schema is far smaller). */
const MAX_FOLLOW_HEADER_BYTES = 4 * 1024 * 1024;

export const FollowFrame = z.discriminatedUnion('t', [
  z.object({ t: z.literal('schema'), schema: z.unknown() }),
  z.object({
    t: z.literal('chunk'),
    index: z.number().int().min(0),
    rows: z.number().int().min(0),
    bytes: z.number().int().min(0).max(MAX_FOLLOW_CHUNK_BYTES),
  }),
  z.object({ t: z.literal('wait') }),
  z.object({ t: z.literal('sealed'), chunkCount: z.number().int().min(0), rowCount: z.number().int().min(0) }),
  /** `status` is the HTTP status the same failure gets on the other routes (retryable when 5xx, 401, 408, 429). */
  z.object({
    t: z.literal('error'),
    code: z.string().max(64),
    message: z.string().max(4000),
    status: z.number().int(),
  }),
]);
export type FollowFrame = z.infer<typeof FollowFrame>;

/** One frame on the wire: the length prefix and JSON, then a chunk frame's bytes. */
export function encodeFollowFrame(frame: FollowFrame, body?: Buffer): Buffer[] {
  const json = Buffer.from(JSON.stringify(frame));
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(json.length);
  return body ? [prefix, json, body] : [prefix, json];
}

/** A follow answer that is not a sequence of valid frames (cut mid-frame, oversized, not JSON). */
export class FollowStreamError extends Error {
  override name = 'FollowStreamError';
}

/**
 * Reads the frames of a follow answer as they arrive, holding at most one frame (a chunk) plus what
 * the socket handed over. Every frame is validated; a stream that ends mid-frame is an error.
 */
export async function* readFollowFrames(
  source: AsyncIterable<Buffer>,
): AsyncGenerator<{ frame: FollowFrame; body?: Buffer }, void, undefined> {
  let pending: Buffer[] = [];
  let have = 0;
  const take = (n: number): Buffer => {
    const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, have);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    pending = rest.length > 0 ? [rest] : [];
    have = rest.length;
    return out;
  };
  let need: { kind: 'length' } | { kind: 'json'; length: number } | { kind: 'body'; frame: FollowFrame } = {
    kind: 'length',
  };
  let wanted = 4;
  for await (const piece of source) {
    pending.push(piece);
    have += piece.length;
    while (have >= wanted) {
      const bytes = take(wanted);
      if (need.kind === 'length') {
        const length = bytes.readUInt32BE(0);
        if (length > MAX_FOLLOW_HEADER_BYTES) throw new FollowStreamError(`a follow frame of ${length} bytes`);
        need = { kind: 'json', length };
        wanted = length;
        continue;
      }
      if (need.kind === 'json') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(bytes.toString('utf8'));
        } catch {
          throw new FollowStreamError('a follow frame that is not JSON');
        }
        const frame = FollowFrame.safeParse(parsed);
        if (!frame.success) throw new FollowStreamError(`a malformed follow frame: ${frame.error.issues[0]?.message}`);
        if (frame.data.t === 'chunk') {
          need = { kind: 'body', frame: frame.data };
          wanted = frame.data.bytes;
          continue;
        }
        yield { frame: frame.data };
      } else {
        // A copy: the chunk must not pin the larger buffer it was sliced from.
        yield { frame: need.frame, body: Buffer.from(bytes) };
      }
      need = { kind: 'length' };
      wanted = 4;
    }
  }
  if (have > 0 || need.kind !== 'length') throw new FollowStreamError('the follow answer ended mid-frame');
}
