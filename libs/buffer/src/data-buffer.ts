import type { BlobInfo, BlobStore } from './blob-store';
import { BufferError, BufferErrorCode } from './buffer-error';
import { assertObjectId, assertTenantId, newObjectId } from './ids';
import type { BufferKeyring } from './keyring';
import { canonicalJson } from './internal/canonical-json';
import {
  CHUNK_PREAMBLE_BYTES,
  openSealedChunk,
  decodeChunkMeta,
  sealChunk,
  storedChunkSize,
} from './internal/chunk-format';
import {
  BUFFER_PREFIX,
  chunkIndexOf,
  chunkKey,
  headerKey,
  manifestKey,
  MAX_CHUNKS,
  objectPrefix,
  objectPrefixOf,
  schemaKey,
} from './internal/layout';
import { openSchema, sealSchema } from './internal/schema-format';
import { openManifest, sealManifest, type BufferManifest, type ChunkInfo } from './internal/manifest-format';
import { createHeader, headerExpiry, openHeader, type OpenedHeader } from './internal/object-header';
import { ObjectFollower, type FollowOptions } from './object-follower';

export type { BufferManifest, ChunkInfo };

/** The largest chunk the buffer takes: what bounds its memory (a chunk or two at a time). */
export const MAX_CHUNK_BYTES = 32 * 1024 * 1024;
/** schema and meta are small descriptions, not data. */
export const MAX_DESCRIPTION_BYTES = 1024 * 1024;
/** Files of an object without a header (a crash during delete) are purged this long after their last write. */
const ORPHAN_GRACE_MS = 60 * 60 * 1000;
const COMMIT_READ_CONCURRENCY = 16;
const OPENED_CACHE_SIZE = 64;

export interface DataBufferOptions {
  store: BlobStore;
  keyring: BufferKeyring;
  /** Lifetime of a new object unless createObject asks for less. Default 24 h. */
  defaultTtlSeconds?: number;
  /** The longest lifetime createObject may ask for (the S3 lifecycle rule is sized from it). Default: defaultTtlSeconds. */
  maxTtlSeconds?: number;
  /** Default and ceiling MAX_CHUNK_BYTES. */
  maxChunkBytes?: number;
  /** Clock in ms since the epoch; tests move it. */
  now?: () => number;
}

export interface BufferObjectInfo {
  tenantId: string;
  objectId: string;
  createdAt: string;
  expiresAt: string;
  /** false when an uncommitted object of that id already existed and is reused (a retried writer). */
  created: boolean;
}

export interface CommitInput {
  /** Opaque JSON describing the rows (the data layer's business). */
  schema: unknown;
  chunkCount: number;
  rowCount: number;
  /** Opaque JSON the reader gets back as is. */
  meta?: unknown;
}

export interface PurgeResult {
  objectsDeleted: number;
  bytesFreed: number;
  /** Objects whose deletion failed this time (store errors); the next purge tries again. */
  objectsFailed: number;
}

async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const isNonNegativeInt = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/**
 * The encrypted temporary buffer: chunked objects a writer fills and commits, readers read back
 * verified, and the purge deletes when they expire. Bytes are opaque (the data layer hands in
 * compressed NDJSON or anything else). Every object has its own random data key, wrapped by the
 * tenant's key; every chunk and the manifest are sealed with it (see internal/ for the formats).
 */
export class DataBuffer {
  readonly store: BlobStore;
  readonly defaultTtlSeconds: number;
  readonly maxTtlSeconds: number;
  readonly maxChunkBytes: number;
  private readonly keyring: BufferKeyring;
  private readonly now: () => number;
  /**
   * Committed objects opened lately, by their exact stored header and manifest bytes: a reader
   * going through hundreds of chunks does not unwrap and decrypt the same manifest for each. Both
   * files are still read and compared every time, so a change in the store is never missed.
   */
  private readonly opened = new Map<
    string,
    { headerBytes: Buffer; manifestBytes: Buffer; header: OpenedHeader; manifest: BufferManifest }
  >();

  constructor(options: DataBufferOptions) {
    this.store = options.store;
    this.keyring = options.keyring;
    this.defaultTtlSeconds = options.defaultTtlSeconds ?? 86_400;
    this.maxTtlSeconds = options.maxTtlSeconds ?? this.defaultTtlSeconds;
    this.maxChunkBytes = Math.min(options.maxChunkBytes ?? MAX_CHUNK_BYTES, MAX_CHUNK_BYTES);
    this.now = options.now ?? Date.now;
    if (!(this.defaultTtlSeconds > 0 && this.defaultTtlSeconds <= this.maxTtlSeconds))
      throw new Error('defaultTtlSeconds must be positive and at most maxTtlSeconds');
  }

  /**
   * Creates an object (a new id unless one is given). Idempotent for a retried writer: an
   * uncommitted object of that id is reused with its key and expiry, so chunks can be rewritten.
   */
  async createObject(
    tenantId: string,
    options: { objectId?: string; ttlSeconds?: number } = {},
  ): Promise<BufferObjectInfo> {
    assertTenantId(tenantId);
    const objectId = options.objectId ?? newObjectId();
    assertObjectId(objectId);
    const ttl = options.ttlSeconds ?? this.defaultTtlSeconds;
    if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > this.maxTtlSeconds) {
      throw new BufferError(
        BufferErrorCode.badInput,
        `ttlSeconds must be a whole number from 1 to ${this.maxTtlSeconds}`,
      );
    }
    const now = this.now();
    const fresh = createHeader(this.keyring, tenantId, objectId, now, now + ttl * 1000);
    if (await this.store.putIfAbsent(headerKey(tenantId, objectId), fresh.bytes)) {
      return this.info(fresh, true);
    }
    const existing = await this.openLive(tenantId, objectId);
    if (await this.store.head(manifestKey(tenantId, objectId))) throw this.committed(objectId);
    return this.info(existing, false);
  }

  /**
   * Publishes the rows' schema before the chunks, for readers that follow the object
   * (followObject). Once per object: a retried writer may publish the same schema again, a
   * different one is BAD_INPUT; the commit must then carry the same schema.
   */
  async publishSchema(tenantId: string, objectId: string, schema: unknown): Promise<void> {
    assertTenantId(tenantId);
    assertObjectId(objectId);
    const description = this.description('schema', schema);
    const header = await this.openLive(tenantId, objectId);
    if (await this.store.head(manifestKey(tenantId, objectId))) throw this.committed(objectId);
    if (
      await this.store.putIfAbsent(schemaKey(tenantId, objectId), sealSchema(header.dataKey, header.bytes, description))
    )
      return;
    const existing = await this.store.get(schemaKey(tenantId, objectId));
    if (
      !existing ||
      canonicalJson(openSchema(header.dataKey, header.bytes, objectId, existing)) !== canonicalJson(description)
    ) {
      throw new BufferError(
        BufferErrorCode.badInput,
        `buffer object ${objectId} already has another published schema; create a new object`,
        { objectId },
      );
    }
  }

  /** Stores chunk `index` (overwriting an earlier write of it) of an uncommitted object. */
  async writeChunk(
    tenantId: string,
    objectId: string,
    index: number,
    bytes: Uint8Array,
    rows: number,
  ): Promise<ChunkInfo> {
    assertTenantId(tenantId);
    assertObjectId(objectId);
    this.assertIndex(index);
    if (!isNonNegativeInt(rows)) throw new BufferError(BufferErrorCode.badInput, 'rows must be a whole number ≥ 0');
    if (bytes.length > this.maxChunkBytes) {
      throw new BufferError(
        BufferErrorCode.tooLarge,
        `chunk ${index} is ${bytes.length} bytes; chunks are at most ${this.maxChunkBytes} bytes, split it`,
        { max: this.maxChunkBytes },
      );
    }
    const header = await this.openLive(tenantId, objectId);
    if (await this.store.head(manifestKey(tenantId, objectId))) throw this.committed(objectId);
    const { file, meta } = sealChunk(header.dataKey, { tenantId, objectId, index }, bytes, rows);
    await this.store.put(chunkKey(tenantId, objectId, index), file);
    return { index, ...meta };
  }

  /**
   * Seals the object: checks chunks 0..chunkCount-1 are all there and their rows add up to
   * rowCount, then writes the manifest (the commit point). Chunks past chunkCount (an earlier
   * attempt that split differently) are deleted. Repeating the same commit returns the manifest.
   */
  async commit(tenantId: string, objectId: string, input: CommitInput): Promise<BufferManifest> {
    assertTenantId(tenantId);
    assertObjectId(objectId);
    if (!isNonNegativeInt(input.chunkCount) || input.chunkCount > MAX_CHUNKS)
      throw new BufferError(BufferErrorCode.badInput, `chunkCount must be a whole number from 0 to ${MAX_CHUNKS}`);
    if (!isNonNegativeInt(input.rowCount))
      throw new BufferError(BufferErrorCode.badInput, 'rowCount must be a whole number ≥ 0');
    const schema = this.description('schema', input.schema);
    const meta = input.meta === undefined ? undefined : this.description('meta', input.meta);

    const header = await this.openLive(tenantId, objectId);
    const existing = await this.store.get(manifestKey(tenantId, objectId));
    if (existing)
      return this.sameCommit(
        openManifest(header.dataKey, header.bytes, tenantId, objectId, existing),
        input,
        schema,
        meta,
      );

    const published = await this.store.get(schemaKey(tenantId, objectId));
    if (
      published &&
      canonicalJson(openSchema(header.dataKey, header.bytes, objectId, published)) !== canonicalJson(schema)
    ) {
      throw new BufferError(
        BufferErrorCode.badInput,
        `the commit's schema of buffer object ${objectId} is not the one its writer published; commit with the published schema`,
        { objectId },
      );
    }

    const sizes = new Map<number, number>();
    const extra: string[] = [];
    for await (const entry of this.store.list(objectPrefix(tenantId, objectId))) {
      const index = chunkIndexOf(entry.key);
      if (index === undefined) continue;
      if (index < input.chunkCount) sizes.set(index, entry.size);
      else extra.push(entry.key);
    }
    for (let i = 0; i < input.chunkCount; i++) {
      if (!sizes.has(i)) {
        throw new BufferError(
          BufferErrorCode.badInput,
          `chunk ${i} of buffer object ${objectId} was never written (the commit says ${input.chunkCount} chunks); write it, then commit`,
          {
            objectId,
            missingChunk: i,
          },
        );
      }
    }
    const chunks: ChunkInfo[] = new Array(input.chunkCount);
    await forEachLimit([...sizes.keys()], COMMIT_READ_CONCURRENCY, async (index) => {
      const position = { tenantId, objectId, index };
      const preamble = await this.store.get(chunkKey(tenantId, objectId, index), {
        offset: 0,
        length: CHUNK_PREAMBLE_BYTES,
      });
      if (!preamble)
        throw new BufferError(
          BufferErrorCode.badInput,
          `chunk ${index} of buffer object ${objectId} disappeared during the commit; write it again`,
          { objectId, missingChunk: index },
        );
      const chunkMeta = decodeChunkMeta(header.dataKey, position, preamble);
      if (sizes.get(index) !== storedChunkSize(chunkMeta.bytes)) {
        throw new BufferError(
          BufferErrorCode.truncated,
          `chunk ${index} of buffer object ${objectId} is not the size it was written with; write it again`,
          { objectId, index },
        );
      }
      chunks[index] = { index, ...chunkMeta };
    });
    const rows = chunks.reduce((n, c) => n + c.rows, 0);
    if (rows !== input.rowCount) {
      throw new BufferError(
        BufferErrorCode.badInput,
        `the ${input.chunkCount} chunks of buffer object ${objectId} hold ${rows} rows, the commit says ${input.rowCount}`,
        {
          objectId,
          chunkRows: rows,
        },
      );
    }
    if (extra.length > 0) await this.store.deleteMany(extra);

    const manifest: BufferManifest = {
      tenantId,
      objectId,
      schema,
      rowCount: input.rowCount,
      chunks,
      createdAt: new Date(header.createdAtMs).toISOString(),
      committedAt: new Date(this.now()).toISOString(),
      expiresAt: new Date(header.expiresAtMs).toISOString(),
      ...(meta === undefined ? {} : { meta }),
    };
    if (
      await this.store.putIfAbsent(
        manifestKey(tenantId, objectId),
        sealManifest(header.dataKey, header.bytes, manifest),
      )
    )
      return manifest;
    // Another writer committed between our check and our write.
    const raced = await this.store.get(manifestKey(tenantId, objectId));
    if (!raced) throw new Error(`the manifest of buffer object ${objectId} vanished during the commit`);
    return this.sameCommit(openManifest(header.dataKey, header.bytes, tenantId, objectId, raced), input, schema, meta);
  }

  async readManifest(tenantId: string, objectId: string): Promise<BufferManifest> {
    assertTenantId(tenantId);
    assertObjectId(objectId);
    // A copy: the cached one serves later reads.
    return structuredClone((await this.openCommitted(tenantId, objectId)).manifest);
  }

  /** One chunk's plaintext, authenticated and checked against the manifest's length and SHA-256. */
  async readChunk(tenantId: string, objectId: string, index: number): Promise<Buffer> {
    assertTenantId(tenantId);
    assertObjectId(objectId);
    this.assertIndex(index);
    const { header, manifest } = await this.openCommitted(tenantId, objectId);
    const expected = manifest.chunks[index];
    if (!expected) {
      throw new BufferError(
        BufferErrorCode.notFound,
        `buffer object ${objectId} has ${manifest.chunks.length} chunks; there is no chunk ${index}`,
        { objectId, index },
      );
    }
    const file = await this.store.get(chunkKey(tenantId, objectId, index));
    if (!file)
      throw new BufferError(
        BufferErrorCode.truncated,
        `chunk ${index} of buffer object ${objectId} is missing from the store; write the object again`,
        { objectId, index },
      );
    return openSealedChunk(header.dataKey, { tenantId, objectId, index }, file, expected);
  }

  /**
   * Reads an object's chunks in order as its writer stores them, before and after the commit (see
   * ObjectFollower): `for await (const chunk of buffer.followObject(...))`, then `.manifest`.
   */
  followObject(tenantId: string, objectId: string, options: FollowOptions = {}): ObjectFollower {
    assertTenantId(tenantId);
    assertObjectId(objectId);
    if (options.fromChunk !== undefined) this.assertIndex(options.fromChunk);
    return new ObjectFollower(
      {
        store: this.store,
        tenantId,
        objectId,
        openLive: () => this.openLive(tenantId, objectId),
        assertLive: (header) => this.assertLive(header),
      },
      options,
    );
  }

  /** Deletes every piece of an object, committed or not. */
  async deleteObject(tenantId: string, objectId: string): Promise<{ bytesFreed: number }> {
    assertTenantId(tenantId);
    assertObjectId(objectId);
    const entries: BlobInfo[] = [];
    for await (const entry of this.store.list(objectPrefix(tenantId, objectId))) entries.push(entry);
    if (entries.length === 0) throw this.notFound(objectId);
    this.opened.delete(`${tenantId}/${objectId}`);
    return { bytesFreed: await this.deleteEntries(entries) };
  }

  /**
   * Deletes objects whose expiry has passed, committed or not (a writer that never committed),
   * and leftovers of an interrupted delete. Streams the listing one object at a time.
   */
  async purgeExpired(now: number = this.now()): Promise<PurgeResult> {
    const result: PurgeResult = { objectsDeleted: 0, bytesFreed: 0, objectsFailed: 0 };
    let group: BlobInfo[] = [];
    let groupPrefix: string | undefined;
    const settle = async () => {
      if (!groupPrefix || group.length === 0) return;
      const entries = group;
      group = [];
      try {
        const header = entries.find((e) => e.key === `${groupPrefix}header.json`);
        const expiry = header ? headerExpiry((await this.store.get(header.key)) ?? Buffer.alloc(0)) : undefined;
        const lastWrite = entries.reduce((t, e) => Math.max(t, e.lastModified.getTime()), 0);
        const expired = expiry !== undefined ? expiry <= now : lastWrite + ORPHAN_GRACE_MS <= now;
        if (!expired) return;
        result.bytesFreed += await this.deleteEntries(entries);
        result.objectsDeleted++;
      } catch {
        result.objectsFailed++;
      }
    };
    for await (const entry of this.store.list(BUFFER_PREFIX)) {
      const prefix = objectPrefixOf(entry.key);
      if (!prefix) continue;
      if (prefix !== groupPrefix) {
        await settle();
        groupPrefix = prefix;
      }
      group.push(entry);
    }
    await settle();
    return result;
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  // Manifest first (the object stops being readable), header last (the purge still finds the rest).
  private async deleteEntries(entries: BlobInfo[]): Promise<number> {
    const rank = (key: string) => (key.endsWith('/manifest.json') ? 0 : key.endsWith('/header.json') ? 2 : 1);
    const ordered = [...entries].sort((a, b) => rank(a.key) - rank(b.key));
    const manifest = ordered.filter((e) => rank(e.key) === 0);
    const middle = ordered.filter((e) => rank(e.key) === 1);
    const header = ordered.filter((e) => rank(e.key) === 2);
    for (const part of [manifest, middle, header])
      if (part.length > 0) await this.store.deleteMany(part.map((e) => e.key));
    return entries.reduce((n, e) => n + e.size, 0);
  }

  /** The authenticated header of an object that exists and has not expired. */
  private async openLive(tenantId: string, objectId: string): Promise<OpenedHeader> {
    const bytes = await this.store.get(headerKey(tenantId, objectId));
    if (!bytes) throw this.notFound(objectId);
    const header = openHeader(this.keyring, tenantId, objectId, bytes);
    this.assertLive(header);
    return header;
  }

  private assertLive(header: OpenedHeader): void {
    if (header.expiresAtMs <= this.now()) {
      throw new BufferError(
        BufferErrorCode.expired,
        `buffer object ${header.objectId} expired at ${new Date(header.expiresAtMs).toISOString()}; produce the data again`,
        {
          objectId: header.objectId,
        },
      );
    }
  }

  private async openCommitted(
    tenantId: string,
    objectId: string,
  ): Promise<{ header: OpenedHeader; manifest: BufferManifest }> {
    const [headerBytes, manifestBytes] = await Promise.all([
      this.store.get(headerKey(tenantId, objectId)),
      this.store.get(manifestKey(tenantId, objectId)),
    ]);
    if (!headerBytes) throw this.notFound(objectId);
    const cacheKey = `${tenantId}/${objectId}`;
    const hit = this.opened.get(cacheKey);
    if (hit && manifestBytes && hit.headerBytes.equals(headerBytes) && hit.manifestBytes.equals(manifestBytes)) {
      this.assertLive(hit.header);
      return hit;
    }
    const header = openHeader(this.keyring, tenantId, objectId, headerBytes);
    this.assertLive(header);
    if (!manifestBytes)
      throw new BufferError(
        BufferErrorCode.notCommitted,
        `buffer object ${objectId} is not committed yet; its writer has not finished`,
        { objectId },
      );
    const manifest = openManifest(header.dataKey, header.bytes, tenantId, objectId, manifestBytes);
    if (this.opened.size >= OPENED_CACHE_SIZE) this.opened.delete(this.opened.keys().next().value!);
    this.opened.set(cacheKey, { headerBytes, manifestBytes, header, manifest });
    return { header, manifest };
  }

  private sameCommit(manifest: BufferManifest, input: CommitInput, schema: unknown, meta: unknown): BufferManifest {
    const same =
      manifest.chunks.length === input.chunkCount &&
      manifest.rowCount === input.rowCount &&
      canonicalJson(manifest.schema) === canonicalJson(schema) &&
      canonicalJson(manifest.meta ?? null) === canonicalJson(meta ?? null);
    if (!same) throw this.committed(manifest.objectId);
    return manifest;
  }

  /** JSON-only copy of a caller's description, within its size limit. */
  private description(name: 'schema' | 'meta', value: unknown): unknown {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch {
      json = undefined;
    }
    if (json === undefined) throw new BufferError(BufferErrorCode.badInput, `${name} must be a JSON value`);
    if (Buffer.byteLength(json) > MAX_DESCRIPTION_BYTES)
      throw new BufferError(BufferErrorCode.tooLarge, `${name} is over ${MAX_DESCRIPTION_BYTES} bytes as JSON`);
    return JSON.parse(json) as unknown;
  }

  private assertIndex(index: number): void {
    if (!isNonNegativeInt(index) || index >= MAX_CHUNKS)
      throw new BufferError(BufferErrorCode.badInput, `chunk index must be a whole number from 0 to ${MAX_CHUNKS - 1}`);
  }

  private info(header: OpenedHeader, created: boolean): BufferObjectInfo {
    return {
      tenantId: header.tenantId,
      objectId: header.objectId,
      createdAt: new Date(header.createdAtMs).toISOString(),
      expiresAt: new Date(header.expiresAtMs).toISOString(),
      created,
    };
  }

  private notFound(objectId: string): BufferError {
    return new BufferError(
      BufferErrorCode.notFound,
      `no buffer object ${objectId} for this tenant (never created, deleted, or purged)`,
      { objectId },
    );
  }

  private committed(objectId: string): BufferError {
    return new BufferError(
      BufferErrorCode.alreadyCommitted,
      `buffer object ${objectId} is already committed; it cannot be written or committed differently, create a new object`,
      { objectId },
    );
  }
}
