import { once } from 'node:events';
import { promisify } from 'node:util';
import { constants, createZstdCompress, gunzip, gzip, zstdDecompress, type ZstdCompress } from 'node:zlib';
import { DataflowError, DataflowErrorCode } from './errors';

const gunzipAsync = promisify(gunzip);
const gzipAsync = promisify(gzip);
const zstdDecompressAsync = promisify(zstdDecompress);

/** Output pieces of the gzip fallback's compressor (zlib's default is 16 KB). */
const INFLATE_PIECE_BYTES = 1024 * 1024;

/**
 * The decompressor's output piece for a chunk: large enough that a chunk's text is one piece (NDJSON
 * inflates 4-5x from zstd level 1), so the text is that piece itself, not pieces and their concat
 * (twice the memory, the pieces left as garbage). A text that outgrows it is concatenated as before.
 */
function inflatePieceBytes(compressed: number, maxBytes: number): number {
  return Math.max(64 * 1024, Math.min(maxBytes, 64 * 1024 * 1024, compressed * 8));
}

/** Texts inflateChunk made: the only buffers releaseChunkText gives back. */
const inflatedTexts = new WeakSet<Buffer>();

/** Decompressed bytes a chunk may expand to unless the caller says otherwise (a zip bomb stops here). */
export const DEFAULT_MAX_CHUNK_BYTES = 256 * 1024 * 1024;

/**
 * Buffer chunks: NDJSON, one JSON array of canonical values per row, compressed with Zstandard at
 * level 1. On the benchmark's rows (bench/README.md, chunk-codec) zstd 1 compresses a 50,000-row
 * chunk 4.4x faster than gzip level 1 (the codec before it) and decompresses it 3.7x faster, into
 * bytes 11 % smaller: CPU both ends of every buffer path spent. Readers take gzip chunks too (written
 * by earlier versions); a reader that takes only gzip (an agent of an earlier version) is served
 * `chunkAsGzip` by the gateway (`CHUNK_CODECS_HEADER`).
 */
export async function encodeChunk(rows: unknown[][]): Promise<Buffer> {
  const encoder = new ChunkEncoder();
  try {
    await encoder.add(rows);
    return await encoder.finish();
  } finally {
    encoder.destroy();
  }
}

/**
 * One chunk encoded as its rows arrive (the same bytes format as `encodeChunk`): each batch's JSON
 * lines go into the gzip stream at once, so a chunk being made holds its compressed bytes and the
 * batch being added, not all its rows (50,000 rows as JavaScript arrays are tens of MB, their chunk
 * about 3 MB), and the compressor works on libuv's thread pool while the next batch is read. `add`
 * resolves once the compressor has taken the batch's text in (backpressure: at most one batch of
 * text waits for it).
 */
export class ChunkEncoder {
  private readonly gzip: ZstdCompress = createZstdCompress({
    params: { [constants.ZSTD_c_compressionLevel]: 1 },
    // Output pieces of 256 KB, not 16 KB: fewer callbacks and parts for the chunk's few MB.
    chunkSize: 256 * 1024,
  });
  private readonly out: Buffer[] = [];
  private readonly ended: Promise<void>;
  /** Rows added so far. */
  rows = 0;

  constructor() {
    this.gzip.on('data', (bytes: Buffer) => this.out.push(bytes));
    this.ended = once(this.gzip, 'end').then(() => undefined);
    this.ended.catch(() => undefined);
  }

  async add(rows: unknown[][]): Promise<void> {
    if (rows.length === 0) return;
    const parts: string[] = new Array<string>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      if (!Array.isArray(row))
        throw new DataflowError(DataflowErrorCode.BAD_VALUE, `row ${this.rows + i + 1} is not an array`, {
          row: this.rows + i,
        });
      parts[i] = JSON.stringify(row);
    }
    this.rows += rows.length;
    parts.push('');
    if (!this.gzip.write(parts.join('\n'))) await once(this.gzip, 'drain');
  }

  /**
   * Rows already as the chunk's lines (`count` lines, each ending with a newline: what `add` makes of
   * rows, as a connection's readLines gives them), into the chunk as they are.
   */
  async addLines(lines: Buffer, count: number): Promise<void> {
    if (count === 0) return;
    this.rows += count;
    if (!this.gzip.write(lines)) await once(this.gzip, 'drain');
  }

  /** The chunk's bytes; the encoder takes nothing more. */
  async finish(): Promise<Buffer> {
    this.gzip.end();
    await this.ended;
    return Buffer.concat(this.out);
  }

  /** Frees the compressor (an extract that failed or was cancelled midway). */
  destroy(): void {
    this.gzip.destroy();
  }
}

export interface DecodeChunkOptions {
  /** Decompressed size cap in bytes (default DEFAULT_MAX_CHUNK_BYTES). */
  maxBytes?: number;
}

export async function decodeChunk(bytes: Buffer, options: DecodeChunkOptions = {}): Promise<unknown[][]> {
  // One group of every row: the generator always yields at least one.
  return chunkRowGroups(await inflateChunk(bytes, options), Infinity).next().value?.rows ?? [];
}

/** Which compression a chunk's bytes are in, by their magic number; undefined for neither. */
export function chunkCodec(bytes: Buffer): 'zstd' | 'gzip' | undefined {
  if (!Buffer.isBuffer(bytes) || bytes.length < 9) return undefined;
  if (bytes[0] === 0x28 && bytes[1] === 0xb5 && bytes[2] === 0x2f && bytes[3] === 0xfd) return 'zstd';
  if (bytes.length >= 18 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip';
  return undefined;
}

/**
 * A chunk's NDJSON text, not yet parsed: a few MB of bytes where its 50,000 rows as JavaScript
 * arrays are tens of MB of heap, so a load holds the text and parses it a row group at a time.
 */
export async function inflateChunk(bytes: Buffer, options: DecodeChunkOptions = {}): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_CHUNK_BYTES;
  const codec = chunkCodec(bytes);
  if (!codec) {
    throw new DataflowError(DataflowErrorCode.BAD_CHUNK, 'not a chunk: the bytes are neither zstd nor gzip data');
  }
  try {
    // maxOutputLength makes the decompressor stop at the cap instead of filling memory first. Output
    // in one piece, not zlib's 16 KB ones: a 10 MB chunk was 640 callbacks and a concat, twice the
    // CPU of the decompression itself (measured on a 50,000-row chunk: 30 -> 15 ms).
    const options = { maxOutputLength: maxBytes, chunkSize: inflatePieceBytes(bytes.length, maxBytes) };
    const text = codec === 'zstd' ? await zstdDecompressAsync(bytes, options) : await gunzipAsync(bytes, options);
    inflatedTexts.add(text);
    return text;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new DataflowError(DataflowErrorCode.CHUNK_TOO_LARGE, `chunk expands to more than ${maxBytes} bytes`, {
        cause: err,
      });
    }
    throw new DataflowError(DataflowErrorCode.BAD_CHUNK, `not a chunk: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Gives an inflated chunk's memory back now, once its rows are written, instead of at V8's next full
 * collection: a load that transcodes lines makes almost no other garbage, so V8 collects rarely and
 * dead chunk texts (10 MB each, outside its heap) piled up to ~70 MB in the loading process
 * (bench/README.md, data-transfer). Detaching the ArrayBuffer (`transfer(0)`) frees it at once;
 * every view of it then reads as empty. Only a text inflateChunk made is released (its piece is
 * its own), and nothing else.
 */
export function releaseChunkText(text: Buffer): void {
  if (!inflatedTexts.has(text)) return;
  inflatedTexts.delete(text);
  releaseOwned(text, true);
}

/**
 * Detaches the ArrayBuffer under `bytes` (frees it now), when nothing else can be in it: `bytes`
 * starts it and, unless `wholeKnown`, spans it (Node's shared pool for small buffers never qualifies).
 */
export function releaseOwned(bytes: Buffer, wholeKnown = false): void {
  const whole = bytes.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
  if (
    whole instanceof ArrayBuffer &&
    typeof whole.transfer === 'function' &&
    bytes.byteOffset === 0 &&
    (wholeKnown || bytes.byteLength === whole.byteLength) &&
    whole.byteLength > Buffer.poolSize
  ) {
    whole.transfer(0);
  }
}

/**
 * The same chunk as gzip (level 1), for a reader of an earlier version that decodes nothing else; a
 * gzip chunk is returned as it is. Its rows and their text are unchanged.
 */
export async function chunkAsGzip(bytes: Buffer, options: DecodeChunkOptions = {}): Promise<Buffer> {
  if (chunkCodec(bytes) === 'gzip') return bytes;
  return gzipAsync(await inflateChunk(bytes, options), {
    level: constants.Z_BEST_SPEED,
    chunkSize: INFLATE_PIECE_BYTES,
  });
}

/**
 * An inflated chunk's rows, parsed `groupRows` at a time as the caller asks for them (at least one
 * group, empty for an empty chunk; `last` on the one that ends the text, so a caller knows the chunk
 * is done without parsing further). A line that is not a row array throws when its group is reached.
 */
export function* chunkRowGroups(
  text: Buffer,
  groupRows: number,
): Generator<{ rows: unknown[][]; last: boolean }, void, undefined> {
  let rows: unknown[][] = [];
  let yielded = false;
  let start = 0;
  let line = 0;
  while (start < text.length) {
    let end = text.indexOf(0x0a, start);
    if (end < 0) end = text.length;
    line++;
    if (end > start) {
      let row: unknown;
      try {
        row = JSON.parse(text.toString('utf8', start, end));
      } catch (err) {
        throw new DataflowError(
          DataflowErrorCode.BAD_CHUNK,
          `chunk line ${line} is not JSON: ${(err as Error).message}`,
          { row: line - 1, cause: err },
        );
      }
      if (!Array.isArray(row))
        throw new DataflowError(DataflowErrorCode.BAD_CHUNK, `chunk line ${line} is not a row array`, {
          row: line - 1,
        });
      rows.push(row);
      if (rows.length >= groupRows) {
        const last = end + 1 >= text.length;
        yield { rows, last };
        if (last) return;
        yielded = true;
        rows = [];
      }
    }
    start = end + 1;
  }
  if (rows.length > 0 || !yielded) yield { rows, last: true };
}
