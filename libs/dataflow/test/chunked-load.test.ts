import { encodeChunk, type DataConnection } from '@vansales/dataflow';
import { chunkedLoad } from '../src/pipeline/chunked-load';

const CHUNK_ROWS = 5_000;
const row = (i: number): unknown[] => [i, `customer ${i}`, '12.50'];
const columns = ['id', 'name', 'amount'].map((name) => ({
  name,
  type: { kind: 'text' as const },
  nullable: true,
  nativeType: 'text',
}));

/** Stored chunks of generated rows; which ones were fetched, in order. */
async function storedChunks(count: number) {
  const bytes = await Promise.all(
    Array.from({ length: count }, (_, c) =>
      encodeChunk(Array.from({ length: CHUNK_ROWS }, (_, i) => row(c * CHUNK_ROWS + i))),
    ),
  );
  const fetched: number[] = [];
  return {
    fetched,
    source: { count, get: async (index: number) => (fetched.push(index), bytes[index]!) },
  };
}

/** Rows decoded so far: the codec parses one row per JSON.parse call. */
function countParsedRows() {
  const original = JSON.parse;
  const seen = { rows: 0 };
  JSON.parse = ((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
    const value = original(text, reviver) as unknown;
    if (Array.isArray(value)) seen.rows++;
    return value;
  }) as typeof JSON.parse;
  return { seen, restore: () => void (JSON.parse = original) };
}

const plan = { table: { name: 't' }, columns, keyColumns: ['id'], startChunk: 0, startRows: 0 };

describe('chunked load', () => {
  it('decodes the next chunk while one is written, and no further', async () => {
    const { fetched, source } = await storedChunks(6);
    const written: unknown[][][] = [];
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const conn = {
      dialect: 'postgres',
      writeRows: async (_t: unknown, _c: unknown, rows: unknown[][]) => {
        written.push(rows);
        if (written.length === 1) await blocked;
        return { written: rows.length };
      },
    } as unknown as DataConnection;
    const parsed = countParsedRows();
    let load: Promise<{ rowsDone: number }>;
    try {
      load = chunkedLoad(conn, plan, source, () => undefined);
      // While chunk 0 is written, chunk 1 is decoded ahead (before: only fetched, decoded once
      // chunk 0 was written), and chunk 2 fetched.
      const deadline = Date.now() + 30_000;
      while (parsed.seen.rows < 2 * CHUNK_ROWS || fetched.length < 3) {
        if (Date.now() > deadline) break;
        await new Promise((r) => setImmediate(r));
      }
      // Give anything that would run further ahead every chance to (many turns of the event loop).
      for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
      expect(written).toHaveLength(1);
      expect(parsed.seen.rows).toBe(2 * CHUNK_ROWS);
      expect(fetched).toEqual([0, 1, 2]);
    } finally {
      parsed.restore();
      release();
    }
    await expect(load).resolves.toEqual({ rowsDone: 6 * CHUNK_ROWS });
    expect(written.flat()).toEqual(Array.from({ length: 6 * CHUNK_ROWS }, (_, i) => row(i)));
  });

  it('writes every chunk before an unreadable one, and names the unreadable one', async () => {
    const { source } = await storedChunks(3);
    const broken = { count: 3, get: async (i: number) => (i === 2 ? Buffer.from('not gzip') : source.get(i)) };
    const written: number[] = [];
    const conn = {
      dialect: 'postgres',
      writeRows: async (_t: unknown, _c: unknown, rows: unknown[][]) => {
        written.push(rows.length);
        return { written: rows.length };
      },
    } as unknown as DataConnection;
    const done: number[] = [];
    await expect(
      chunkedLoad(
        conn,
        { ...plan, onBadChunk: (index, err) => new Error(`chunk ${index}: ${err.message}`) },
        broken,
        (p) => done.push(p.chunksDone),
      ),
    ).rejects.toThrow(/^chunk 2: /);
    expect(written).toEqual([CHUNK_ROWS, CHUNK_ROWS]);
    expect(done).toEqual([1, 2]);
  });
});
