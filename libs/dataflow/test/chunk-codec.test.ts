import { gunzipSync, gzipSync, zstdCompressSync } from 'node:zlib';
import { chunkAsGzip, chunkCodec, DataflowErrorCode, decodeChunk, encodeChunk } from '@vansales/dataflow';
import { inflateChunk, releaseChunkText, releaseOwned } from '../src/chunk-codec';

describe('chunk codec', () => {
  it('round-trips canonical rows', async () => {
    const rows = [
      [
        1,
        '9223372036854775807',
        '12.50',
        1.5,
        'NaN',
        true,
        'héllo 😀\n\t"q"',
        { $binary: 'AAEC/w==' },
        '2024-01-01',
        '10:00:00.5',
        '2024-01-01T00:00:00Z',
        { a: [1, null] },
        ['x', 'y'],
        null,
      ],
      [
        2,
        -1,
        '0',
        0,
        'Infinity',
        false,
        '',
        { $binary: '' },
        '9999-12-31',
        '00:00:00',
        '1970-01-01 00:00:00',
        [],
        [],
        null,
      ],
    ];
    const bytes = await encodeChunk(rows);
    // Zstandard's magic number: chunks are written in zstd.
    expect([...bytes.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
    expect(chunkCodec(bytes)).toBe('zstd');
    expect(await decodeChunk(bytes)).toEqual(rows);
    expect(await decodeChunk(await encodeChunk([]))).toEqual([]);
  });

  it('decodes chunks written at any gzip level (objects of earlier writers stay readable)', async () => {
    const rows = [
      [1, 'a'],
      [2, null],
    ];
    for (const level of [1, 6, 9]) expect(await decodeChunk(gzipSync('[1,"a"]\n[2,null]\n', { level }))).toEqual(rows);
  });

  it('gives a reader of gzip only the same rows as gzip (an agent of an earlier version)', async () => {
    const rows = Array.from({ length: 2_000 }, (_, i) => [i, `customer ${i}`, null]);
    const zstd = await encodeChunk(rows);
    const gzip = await chunkAsGzip(zstd);
    expect(chunkCodec(gzip)).toBe('gzip');
    // What an earlier reader does with it: gunzip, then one JSON row per line.
    const lines = gunzipSync(gzip).toString('utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(rows);
    // A gzip chunk is passed on as it is.
    expect((await chunkAsGzip(gzip)).equals(gzip)).toBe(true);
    await expect(chunkAsGzip(Buffer.from('not a chunk at all'))).rejects.toMatchObject({
      code: DataflowErrorCode.BAD_CHUNK,
    });
  });

  it('compresses', async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => [i, `customer ${i}`, '2024-01-01 00:00:00']);
    const bytes = await encodeChunk(rows);
    expect(bytes.length).toBeLessThan(JSON.stringify(rows).length / 5);
    expect(await decodeChunk(bytes)).toEqual(rows);
  });

  it('refuses garbage with a clear error', async () => {
    await expect(decodeChunk(Buffer.from('not gzip at all, just some text'))).rejects.toMatchObject({
      code: DataflowErrorCode.BAD_CHUNK,
    });
    await expect(decodeChunk(Buffer.alloc(0))).rejects.toMatchObject({ code: DataflowErrorCode.BAD_CHUNK });
    // Cut short, in either compression: an error, never fewer rows.
    const whole = await encodeChunk([[1, 2, 3]]);
    await expect(decodeChunk(whole.subarray(0, whole.length - 3))).rejects.toMatchObject({
      code: DataflowErrorCode.BAD_CHUNK,
    });
    const gzip = gzipSync('[1,2,3]\n');
    await expect(decodeChunk(gzip.subarray(0, gzip.length - 3))).rejects.toMatchObject({
      code: DataflowErrorCode.BAD_CHUNK,
    });
    await expect(decodeChunk(gzipSync('[1,2]\n{"not":"a row"}\n'))).rejects.toMatchObject({
      code: DataflowErrorCode.BAD_CHUNK,
      message: expect.stringContaining('line 2'),
    });
    await expect(decodeChunk(gzipSync('[1,2]\n[3,\n'))).rejects.toMatchObject({ code: DataflowErrorCode.BAD_CHUNK });
  });

  it('stops a zstd bomb at the decompressed-size cap', async () => {
    const bomb = zstdCompressSync(Buffer.alloc(300 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    await expect(decodeChunk(bomb)).rejects.toMatchObject({ code: DataflowErrorCode.CHUNK_TOO_LARGE });
    await expect(chunkAsGzip(bomb)).rejects.toMatchObject({ code: DataflowErrorCode.CHUNK_TOO_LARGE });
  });

  it('stops a zip bomb at the decompressed-size cap', async () => {
    // 16 MiB of zeros compresses to ~16 KiB; twenty concatenated gzip members expand to 320 MiB.
    const member = gzipSync(Buffer.alloc(16 * 1024 * 1024));
    const bomb = Buffer.concat(Array.from({ length: 20 }, () => member));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    await expect(decodeChunk(bomb)).rejects.toMatchObject({ code: DataflowErrorCode.CHUNK_TOO_LARGE });
    await expect(decodeChunk(member, { maxBytes: 1024 * 1024 })).rejects.toMatchObject({
      code: DataflowErrorCode.CHUNK_TOO_LARGE,
    });
  });

  it('gives back an inflated chunk, and pieces that own their memory, never a buffer that shares it', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => [i, `row ${i} `.repeat(4)]);
    const text = await inflateChunk(await encodeChunk(rows));
    // One piece: the text is not a concat of many (and its memory is its own).
    expect(text.byteOffset).toBe(0);
    const other = Buffer.from(text);
    releaseChunkText(text);
    expect(text.byteLength).toBe(0);
    // Only what inflateChunk made: another buffer with the same bytes is left alone.
    releaseChunkText(other);
    expect(other.equals(Buffer.from(`${rows.map((r) => JSON.stringify(r)).join('\n')}\n`))).toBe(true);

    const owned = Buffer.alloc(1 << 20, 1);
    releaseOwned(owned);
    expect(owned.byteLength).toBe(0);
    // A slice of a larger buffer, and a small buffer from Node's shared pool, stay as they are.
    const whole = Buffer.alloc(1 << 20, 2);
    const slice = whole.subarray(0, 1 << 19);
    releaseOwned(slice);
    expect([slice.byteLength, whole[0]]).toEqual([1 << 19, 2]);
    const pooled = Buffer.from('[1,2]\n');
    releaseOwned(pooled);
    expect(pooled.toString()).toBe('[1,2]\n');
  });
});
