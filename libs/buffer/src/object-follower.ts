import type { BlobStore } from './blob-store';
import { BufferError, BufferErrorCode } from './buffer-error';
import { CHUNK_PREAMBLE_BYTES, decodeChunkMeta, openSealedChunk, type ChunkMeta } from './internal/chunk-format';
import { chunkKey, headerKey, manifestKey, schemaKey } from './internal/layout';
import { canonicalJson } from './internal/canonical-json';
import { openSchema } from './internal/schema-format';
import { openManifest, type BufferManifest } from './internal/manifest-format';
import type { OpenedHeader } from './internal/object-header';

export interface FollowOptions {
  /** First chunk to read (a resumed reader); earlier chunks are neither read nor checked. Default 0. */
  fromChunk?: number;
  /** Stops the wait and the iteration (with the signal's reason). */
  signal?: AbortSignal;
  /** How long to wait for an object that is not created yet before NOT_FOUND. Default 0: at once. */
  createTimeoutMs?: number;
  /** First pause between looks at the store while nothing new is there; doubles up to maxPollMs. Default 20. */
  pollMs?: number;
  /** Default 500: a chunk of thousands of rows takes longer than that to write anyway. */
  maxPollMs?: number;
  /** Called on every look that finds nothing new (a load heartbeats on it, so a slow writer does not look like a hung reader). */
  onWait?: () => void;
}

/** One verified chunk of a followed object. */
export interface FollowedChunk {
  index: number;
  rows: number;
  /** The plaintext, authenticated and checked against its SHA-256. */
  bytes: Buffer;
}

/** What the follower needs of the buffer: its store, its clock, and how it opens a live header. */
export interface FollowContext {
  store: BlobStore;
  tenantId: string;
  objectId: string;
  openLive(): Promise<OpenedHeader>;
  assertLive(header: OpenedHeader): void;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Reads an object's chunks in order while its writer is still storing them, so a load can start on
 * the first committed chunk. Each chunk is opened on its own authority before the commit (its sealed
 * meta binds tenant, object and index to its rows, length and SHA-256, under the object's data key);
 * when the manifest appears it is opened as a normal reader opens it, and every chunk already read
 * must be the one it records: a chunk rewritten after it was read (a retried writer that split
 * differently), or a header changed meanwhile, fails as TAMPERED. Chunks not read yet are then read
 * against the manifest, exactly as readChunk reads them. `manifest` is set once all of that held.
 * `schema()` gives the rows' schema before the first chunk when the writer published it
 * (publishSchema), and the manifest must then repeat it.
 */
export class ObjectFollower implements AsyncIterable<FollowedChunk> {
  /** The sealed object's manifest, once the iteration ended with every chunk checked against it. */
  manifest?: BufferManifest;
  private started = false;
  private header?: Promise<OpenedHeader>;
  /** The schema handed out by schema(), which the manifest must repeat. */
  private promisedSchema?: { value: unknown };

  constructor(
    private readonly ctx: FollowContext,
    private readonly options: FollowOptions = {},
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<FollowedChunk, void, undefined> {
    if (this.started) throw new Error('an ObjectFollower is read once');
    this.started = true;
    const { store, tenantId, objectId } = this.ctx;
    const { signal } = this.options;
    const idle = this.pacer();

    const header = await this.openedHeader();
    const read: ChunkMeta[] = [];
    let index = this.options.fromChunk ?? 0;
    for (;;) {
      signal?.throwIfAborted();
      this.ctx.assertLive(header);
      const manifestBytes = await store.get(manifestKey(tenantId, objectId));
      if (manifestBytes) {
        yield* this.sealed(header, manifestBytes, read, index);
        return;
      }
      const file = await store.get(chunkKey(tenantId, objectId, index));
      if (!file) {
        await idle();
        continue;
      }
      const position = { tenantId, objectId, index };
      // Before the commit the chunk vouches for itself: its meta is sealed with the data key and its position.
      const meta = decodeChunkMeta(header.dataKey, position, file.subarray(0, CHUNK_PREAMBLE_BYTES));
      const bytes = openSealedChunk(header.dataKey, position, file, meta);
      read[index] = meta;
      idle.reset();
      yield { index, rows: meta.rows, bytes };
      index++;
    }
  }

  /**
   * The rows' schema as soon as the writer published it (publishSchema), or from the manifest when
   * the object is committed: what a loader needs to prepare its destination before the first chunk.
   */
  async schema(): Promise<unknown> {
    const { store, tenantId, objectId } = this.ctx;
    const header = await this.openedHeader();
    const idle = this.pacer();
    for (;;) {
      this.options.signal?.throwIfAborted();
      this.ctx.assertLive(header);
      const manifestBytes = await store.get(manifestKey(tenantId, objectId));
      const value = manifestBytes
        ? openManifest(header.dataKey, header.bytes, tenantId, objectId, manifestBytes).schema
        : await store
            .get(schemaKey(tenantId, objectId))
            .then((bytes) => (bytes ? openSchema(header.dataKey, header.bytes, objectId, bytes) : undefined));
      if (value !== undefined) {
        this.promisedSchema = { value };
        return value;
      }
      await idle();
    }
  }

  /** Waits with a doubling pause while nothing new is in the store. */
  private pacer(): (() => Promise<void>) & { reset(): void } {
    const minPoll = this.options.pollMs ?? 20;
    const maxPoll = Math.max(minPoll, this.options.maxPollMs ?? 500);
    let pause = minPoll;
    const idle = async () => {
      this.options.onWait?.();
      await sleep(pause, this.options.signal);
      pause = Math.min(pause * 2, maxPoll);
    };
    return Object.assign(idle, { reset: () => (pause = minPoll) });
  }

  private openedHeader(): Promise<OpenedHeader> {
    this.header ??= this.openHeader(this.pacer());
    return this.header;
  }

  private async openHeader(idle: () => Promise<void>): Promise<OpenedHeader> {
    const deadline = Date.now() + (this.options.createTimeoutMs ?? 0);
    for (;;) {
      try {
        return await this.ctx.openLive();
      } catch (err) {
        if (!(err instanceof BufferError && err.code === BufferErrorCode.notFound) || Date.now() >= deadline) throw err;
      }
      await idle();
    }
  }

  private async *sealed(
    header: OpenedHeader,
    manifestBytes: Buffer,
    read: ChunkMeta[],
    from: number,
  ): AsyncGenerator<FollowedChunk, void, undefined> {
    const { store, tenantId, objectId } = this.ctx;
    const headerNow = await store.get(headerKey(tenantId, objectId));
    if (!headerNow || !headerNow.equals(header.bytes)) {
      throw new BufferError(
        BufferErrorCode.tampered,
        `the header of buffer object ${objectId} changed while it was being read; write the object again`,
        { objectId },
      );
    }
    const manifest = openManifest(header.dataKey, header.bytes, tenantId, objectId, manifestBytes);
    if (this.promisedSchema && canonicalJson(this.promisedSchema.value) !== canonicalJson(manifest.schema)) {
      throw new BufferError(
        BufferErrorCode.tampered,
        `the manifest of buffer object ${objectId} does not repeat the schema its writer published; write the object again`,
        { objectId },
      );
    }
    read.forEach((meta, index) => {
      const recorded = manifest.chunks[index];
      if (
        !recorded ||
        recorded.rows !== meta.rows ||
        recorded.bytes !== meta.bytes ||
        recorded.sha256 !== meta.sha256
      ) {
        throw new BufferError(
          BufferErrorCode.tampered,
          `chunk ${index} of buffer object ${objectId} is not the chunk the manifest recorded (written again after it was read); read the object again`,
          { objectId, index },
        );
      }
    });
    for (let index = from; index < manifest.chunks.length; index++) {
      this.options.signal?.throwIfAborted();
      const file = await store.get(chunkKey(tenantId, objectId, index));
      if (!file)
        throw new BufferError(
          BufferErrorCode.truncated,
          `chunk ${index} of buffer object ${objectId} is missing from the store; write the object again`,
          { objectId, index },
        );
      const expected = manifest.chunks[index]!;
      yield {
        index,
        rows: expected.rows,
        bytes: openSealedChunk(header.dataKey, { tenantId, objectId, index }, file, expected),
      };
    }
    this.manifest = manifest;
  }
}
