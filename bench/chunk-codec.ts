/**
 * The chunk codec on one chunk of the data-transfer rows (same ten columns and value shapes, made
 * in memory): our encodeChunk/decodeChunk, the JSON part alone, and the compressors Node ships on
 * the same NDJSON bytes. No services. Prints one JSON line per codec: size, encode and decode ms.
 *
 *   node --import tsx chunk-codec.ts [--rows 50000] [--runs 5]
 */
import { performance } from 'node:perf_hooks';
import {
  brotliCompressSync,
  brotliDecompressSync,
  constants,
  gunzipSync,
  gzipSync,
  zstdCompressSync,
  zstdDecompressSync,
} from 'node:zlib';
import { decodeChunk, encodeChunk, rowChecker, type ColumnSpec } from '@vansales/dataflow';
import { cliOption, emit, round } from './support';

const ROWS = Number(cliOption('rows') ?? 50_000);
const RUNS = Number(cliOption('runs') ?? 5);

/** Canonical values as the extract hands them over, shaped like generated-table.ts's columns. */
function rows(n: number): unknown[][] {
  const out: unknown[][] = [];
  for (let k = 1; k <= n; k++) {
    const hex = ((k * 2654435761) % 4294967296).toString(16).padStart(8, '0');
    out.push([
      k,
      ((k * 7919) % 100000) - 50000,
      String((k * 2654435761) % 1e15),
      (((k * 48271) % 1e9) / 100).toFixed(2),
      k % 17 === 0 ? null : ((k * 37) % 1e6) / 64 - 5000,
      `C-${hex.toUpperCase()}`,
      k % 29 === 0 ? null : `Row ${k}${k % 10 === 0 ? ', "Zoë" said; ' : ' '}${hex.repeat(24).slice(0, k % 180)}`,
      new Date(Date.UTC(2020, 0, 1) + ((k * 7919) % 157680000) * 1000).toISOString().replace('T', ' ').slice(0, 19),
      k % 23 === 0 ? null : new Date(Date.UTC(2000, 0, 1) + (k % 10000) * 86_400_000).toISOString().slice(0, 10),
      k % 3 === 0,
    ]);
  }
  return out;
}

/** The manifest an extract of those rows declares (MariaDB types as mysqlCanonicalType gives them). */
const DECLARED: ColumnSpec[] = (
  [
    ['id', { kind: 'integer', bits: 64 }, false],
    ['a', { kind: 'integer', bits: 32 }, true],
    ['b', { kind: 'integer', bits: 64 }, true],
    ['amount', { kind: 'decimal', precision: 12, scale: 2 }, true],
    ['ratio', { kind: 'float', bits: 64 }, true],
    ['code', { kind: 'text', maxLength: 12, charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci' }, true],
    ['note', { kind: 'text', maxLength: 200, charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci' }, true],
    ['at', { kind: 'timestamp', precision: 0, withTimeZone: false }, true],
    ['day', { kind: 'date' }, true],
    ['flag', { kind: 'boolean' }, true],
  ] as const
).map(([name, type, nullable]) => ({ name, type: type as ColumnSpec['type'], nullable, nativeType: '' }));

async function ms(fn: () => unknown): Promise<number> {
  await fn();
  const t0 = performance.now();
  for (let i = 0; i < RUNS; i++) await fn();
  return (performance.now() - t0) / RUNS;
}

async function main(): Promise<void> {
  const chunk = rows(ROWS);
  const ndjson = Buffer.from(`${chunk.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const ours = await encodeChunk(chunk);
  emit({
    bench: 'chunk-codec',
    codec: 'ours (encodeChunk/decodeChunk)',
    rows: ROWS,
    bytes: ours.length,
    encodeMs: round(await ms(() => encodeChunk(chunk))),
    decodeMs: round(await ms(() => decodeChunk(ours))),
  });
  // What a load adds per chunk since loads stopped trusting the manifest (issue 9): every value
  // checked against its declared type before the chunk reaches a writer.
  const check = rowChecker(DECLARED);
  const decoded = await decodeChunk(ours);
  if (check(decoded)) throw new Error(`the check refuses the bench rows: ${JSON.stringify(check(decoded))}`);
  emit({
    bench: 'chunk-codec',
    codec: 'manifest value check (rowChecker), load side',
    rows: ROWS,
    checkMs: round(await ms(() => check(decoded))),
  });
  emit({
    bench: 'chunk-codec',
    codec: 'JSON only (stringify + parse per line)',
    rows: ROWS,
    bytes: ndjson.length,
    encodeMs: round(await ms(() => chunk.map((r) => JSON.stringify(r)).join('\n'))),
    decodeMs: round(
      await ms(() =>
        ndjson
          .toString('utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as unknown),
      ),
    ),
  });
  const compressors: [string, (b: Buffer) => Buffer, (b: Buffer) => Buffer][] = [
    ['gzip level 6 (the first codec)', (b) => gzipSync(b, { level: 6 }), (b) => gunzipSync(b)],
    ['gzip level 1 (the codec until 2026-12-04)', (b) => gzipSync(b, { level: 1 }), (b) => gunzipSync(b)],
    [
      'zstd level 1 (the codec now)',
      (b) => zstdCompressSync(b, { params: { [constants.ZSTD_c_compressionLevel]: 1 } }),
      (b) => zstdDecompressSync(b),
    ],
    [
      'brotli quality 1',
      (b) =>
        brotliCompressSync(b, {
          params: { [constants.BROTLI_PARAM_QUALITY]: 1, [constants.BROTLI_PARAM_SIZE_HINT]: b.length },
        }),
      (b) => brotliDecompressSync(b),
    ],
    [
      'brotli quality 4',
      (b) =>
        brotliCompressSync(b, {
          params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: b.length },
        }),
      (b) => brotliDecompressSync(b),
    ],
  ];
  for (const [codec, compress, decompress] of compressors) {
    const packed = compress(ndjson);
    emit({
      bench: 'chunk-codec',
      codec: `${codec}, compressor only`,
      rows: ROWS,
      bytes: packed.length,
      ratio: round(ndjson.length / packed.length),
      encodeMs: round(await ms(() => compress(ndjson))),
      decodeMs: round(await ms(() => decompress(packed))),
    });
  }
}

void main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`chunk-codec failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
