import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { zstdDecompressSync } from 'node:zlib';
import { ChunkEncoder, decodeChunk, encodeChunk, type DataConnection } from '@vansales/dataflow';
import { chunkedExtract, type ExtractPosition } from '../src/pipeline/chunked-extract';

// A full collection on demand, to see which rows the extract still holds.
setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

const row = (i: number): unknown[] => [i, `customer ${i}`, '12.50', i % 7 === 0 ? null : '2024-01-01 10:00:00'];

/** A source of `total` generated rows in read batches; every row it made is watched through a WeakRef. */
function source(total: number) {
  const made: WeakRef<unknown[]>[] = [];
  const conn = {
    dialect: 'postgres',
    async *readRows(_source: unknown, options: { batchSize: number }) {
      for (let at = 0; at < total;) {
        const batch: unknown[][] = [];
        for (; batch.length < options.batchSize && at < total; at++) {
          const r = row(at);
          made.push(new WeakRef(r));
          batch.push(r);
        }
        yield batch;
      }
    },
  } as unknown as DataConnection;
  const alive = () => made.filter((w) => w.deref() !== undefined).length;
  return { conn, made, alive };
}

const plan = (chunkRows: number) => ({
  source: { kind: 'table' as const, table: { name: 't' }, orderBy: ['id'] },
  orderIndexes: [0],
  cursorIndex: -1,
  chunkRows,
  start: { chunksDone: 0, rowsDone: 0 },
});

describe('chunk encoder', () => {
  it('writes the same bytes whether a chunk comes in batches or at once', async () => {
    const rows = Array.from({ length: 25_000 }, (_, i) => row(i));
    const encoder = new ChunkEncoder();
    for (let i = 0; i < rows.length; i += 3_000) await encoder.add(rows.slice(i, i + 3_000));
    expect(encoder.rows).toBe(rows.length);
    const streamed = await encoder.finish();
    const text = rows.map((r) => `${JSON.stringify(r)}\n`).join('');
    expect(zstdDecompressSync(streamed).toString('utf8')).toBe(text);
    expect(streamed.equals(await encodeChunk(rows))).toBe(true);
    expect(await decodeChunk(streamed)).toEqual(rows);
  });

  it('numbers a row that is not an array by its place in the chunk', async () => {
    const encoder = new ChunkEncoder();
    await encoder.add([[1], [2]]);
    await expect(encoder.add([[3], 'x' as unknown as unknown[]])).rejects.toThrow('row 4 is not an array');
    encoder.destroy();
  });
});

describe('chunked extract', () => {
  it('stores every row once, in order, with its keyset position per chunk', async () => {
    const { conn } = source(25_001);
    const stored: { index: number; rows: unknown[][] }[] = [];
    const positions: ExtractPosition[] = [];
    const end = await chunkedExtract(
      conn,
      plan(10_000),
      {
        put: async (index, bytes, rows) => void stored.push({ index, rows: (await decodeChunk(bytes)).slice(0, rows) }),
      },
      (p) => positions.push(p),
    );
    expect(stored.map((c) => [c.index, c.rows.length])).toEqual([
      [0, 10_000],
      [1, 10_000],
      [2, 5_001],
    ]);
    expect(stored.flatMap((c) => c.rows)).toEqual(Array.from({ length: 25_001 }, (_, i) => row(i)));
    expect(positions.map((p) => [p.chunksDone, p.rowsDone, p.after])).toEqual([
      [1, 10_000, [9_999]],
      [2, 20_000, [19_999]],
      [3, 25_001, [25_000]],
    ]);
    expect(end).toMatchObject({ chunksDone: 3, rowsDone: 25_001, after: [25_000] });
  });

  it('holds one read batch of rows, not whole chunks, while the store is behind', async () => {
    // Chunks of 30,000 rows read in batches of 10,000. The store takes chunk 0 and then waits: the
    // extract reads chunk 1 (it may run one chunk ahead) and stops. Rows already encoded must be
    // garbage by then; before the encoder took rows batch by batch, the extract held chunk 1's rows
    // (and chunk 0's, until its store finished): 60,000 rows instead of at most one batch.
    const { conn, made, alive } = source(90_000);
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const puts: number[] = [];
    const extract = chunkedExtract(
      conn,
      plan(30_000),
      {
        put: async (index) => {
          puts.push(index);
          if (index === 0) await blocked;
        },
      },
      () => undefined,
    );
    // Poll until the extract has read chunk 1 and holds no more than a batch (or give up).
    const deadline = Date.now() + 30_000;
    let held = Infinity;
    while (Date.now() < deadline) {
      await new Promise((r) => setImmediate(r));
      if (made.length < 60_000) continue;
      gc();
      held = alive();
      if (held <= 10_000) break;
    }
    expect(made.length).toBeLessThanOrEqual(60_000);
    expect(held).toBeLessThanOrEqual(10_000);
    expect(puts).toEqual([0]);
    release();
    const end = await extract;
    expect(end).toMatchObject({ chunksDone: 3, rowsDone: 90_000 });
    expect(puts).toEqual([0, 1, 2]);
  });
});

describe('chunked extract from lines', () => {
  /** The same rows as `source`, also as the chunk lines a connection's readLines gives, in batches of `lineBatch`. */
  function linesSource(total: number, lineBatch: number) {
    const { conn } = source(total);
    let linesRead = 0;
    const lines = {
      ...conn,
      readRows: conn.readRows,
      readLines(readSource: { after?: unknown }) {
        if (readSource.after !== undefined) return undefined;
        return (async function* () {
          for (let at = 0; at < total; at += lineBatch) {
            const rows = Array.from({ length: Math.min(lineBatch, total - at) }, (_, i) => row(at + i));
            linesRead += rows.length;
            yield {
              lines: Buffer.from(rows.map((r) => `${JSON.stringify(r)}\n`).join('')),
              rows: rows.length,
              last: rows.at(-1)!,
            };
          }
        })();
      },
    } as unknown as DataConnection;
    return { rowsConn: conn, linesConn: lines, linesRead: () => linesRead };
  }

  it('stores the same chunks at the same positions from lines as from rows, cutting batches at chunk ends', async () => {
    // Chunks of 2,500 rows from batches of 1,000 lines: chunks end inside batches.
    const { rowsConn, linesConn, linesRead } = linesSource(10_200, 1_000);
    const run = async (conn: DataConnection) => {
      const stored: { index: number; bytes: Buffer; rows: number }[] = [];
      const positions: ExtractPosition[] = [];
      const end = await chunkedExtract(
        conn,
        plan(2_500),
        { put: async (index, bytes, rows) => void stored.push({ index, bytes, rows }) },
        (p) => positions.push(p),
      );
      return { stored, positions, end };
    };
    const byRows = await run(rowsConn);
    const byLines = await run(linesConn);
    expect(linesRead()).toBe(10_200);
    expect(byLines.stored.map((c) => [c.index, c.rows])).toEqual(byRows.stored.map((c) => [c.index, c.rows]));
    expect(byLines.stored.map((c) => [c.index, c.rows])).toEqual([
      [0, 2_500],
      [1, 2_500],
      [2, 2_500],
      [3, 2_500],
      [4, 200],
    ]);
    for (let i = 0; i < byRows.stored.length; i++)
      expect(zstdDecompressSync(byLines.stored[i]!.bytes).equals(zstdDecompressSync(byRows.stored[i]!.bytes))).toBe(
        true,
      );
    expect(byLines.positions).toEqual(byRows.positions);
    expect(byLines.end).toEqual({ chunksDone: 5, rowsDone: 10_200, after: [10_199] });
  });

  it('reads rows where a mask must be applied, or a cursor followed', async () => {
    const { linesConn, linesRead } = linesSource(3_000, 1_000);
    const masked = await chunkedExtract(
      linesConn,
      { ...plan(2_000), protect: (r) => void (r[1] = '***') },
      { put: async () => undefined },
      () => undefined,
    );
    expect(masked.rowsDone).toBe(3_000);
    const cursor = await chunkedExtract(
      linesConn,
      { ...plan(2_000), cursorIndex: 0 },
      { put: async () => undefined },
      () => undefined,
    );
    expect(cursor).toMatchObject({ rowsDone: 3_000, cursorMax: 2_999 });
    expect(linesRead()).toBe(0);
  });
});
