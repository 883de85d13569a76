import { encodeChunk, type DataConnection } from '@vansales/dataflow';
import { chunkedLoad, LOAD_GROUP_ROWS } from '../src/pipeline/chunked-load';

const CHUNK_ROWS = 5_000;
const row = (i: number): unknown[] => [i, `customer ${i}`, '12.50'];
const columns = ['id', 'name', 'amount'].map((name) => ({
  name,
  type: { kind: 'text' as const },
  nullable: true,
  nativeType: 'text',
}));

/** Stored chunks of generated rows; which ones were fetched, in order. */
async function storedChunks(count: number, chunkRows = CHUNK_ROWS, make = row) {
  const bytes = await Promise.all(
    Array.from({ length: count }, (_, c) =>
      encodeChunk(Array.from({ length: chunkRows }, (_, i) => make(c * chunkRows + i))),
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

  it('holds two row groups of a chunk while it writes, not two whole chunks', async () => {
    // Chunks of three groups: before, a whole chunk was parsed and the next one decoded ahead
    // (6 groups' rows alive); now the group written and the one parsed ahead.
    const chunkRows = 3 * LOAD_GROUP_ROWS;
    const { source } = await storedChunks(2, chunkRows);
    const written: unknown[][][] = [];
    const done: { chunksDone: number; rowsDone: number }[] = [];
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const conn = {
      dialect: 'postgres',
      writeRows: async (_t: unknown, _c: unknown, rows: unknown[][]) => {
        written.push(rows);
        if (written.length === 2) await blocked;
        return { written: rows.length };
      },
    } as unknown as DataConnection;
    const parsed = countParsedRows();
    let load: Promise<{ rowsDone: number }>;
    try {
      load = chunkedLoad(conn, plan, source, (p) => done.push(p));
      const deadline = Date.now() + 30_000;
      while (written.length < 2 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
      // The second group of chunk 0 is being written, the third parsed ahead, nothing further.
      expect(written.map((w) => w.length)).toEqual([LOAD_GROUP_ROWS, LOAD_GROUP_ROWS]);
      expect(parsed.seen.rows).toBe(3 * LOAD_GROUP_ROWS);
      // A chunk is reported done only once all its groups are written.
      expect(done).toEqual([]);
    } finally {
      parsed.restore();
      release();
    }
    await expect(load).resolves.toEqual({ rowsDone: 2 * chunkRows });
    expect(written.map((w) => w.length)).toEqual(Array(6).fill(LOAD_GROUP_ROWS));
    expect(written.flat()).toEqual(Array.from({ length: 2 * chunkRows }, (_, i) => row(i)));
    expect(done).toEqual([
      { chunksDone: 1, rowsDone: chunkRows },
      { chunksDone: 2, rowsDone: 2 * chunkRows },
    ]);
  });

  it('refuses a group that contradicts the manifest before writing any of it, naming its row in the chunk', async () => {
    const text = (i: number) => [`${i}`, `customer ${i}`, '12.50'];
    const bytes = await encodeChunk([text(0), text(1), text(2), ['3', 'short row']]);
    const written: number[] = [];
    const conn = {
      dialect: 'postgres',
      writeRows: async (_t: unknown, _c: unknown, rows: unknown[][]) => (
        written.push(rows.length),
        { written: rows.length }
      ),
    } as unknown as DataConnection;
    const refused: unknown[] = [];
    await expect(
      chunkedLoad(
        conn,
        {
          ...plan,
          groupRows: 2,
          declared: {
            columns,
            refuse: (index, problem, rowsWritten) => (
              refused.push({ index, row: problem.row, rowsWritten }),
              new Error('refused')
            ),
          },
        },
        { count: 1, get: async () => bytes },
        () => undefined,
      ),
    ).rejects.toThrow('refused');
    expect(written).toEqual([2]);
    expect(refused).toEqual([{ index: 0, row: 3, rowsWritten: 2 }]);
  });

  it('gives a connection that inserts lines each chunk unparsed, and writes as rows, a group at a time, what it does not take', async () => {
    const chunkRows = 2 * LOAD_GROUP_ROWS + 5;
    // Rows of ~100 bytes: a chunk's text of 2 MB owns its memory (smaller ones share zlib's output piece).
    const wide = (i: number): unknown[] => [...row(i), 'x'.repeat(64)];
    const { source } = await storedChunks(4, chunkRows, wide);
    const calls: string[] = [];
    const inserted: unknown[][] = [];
    const written: unknown[][] = [];
    const given: Buffer[] = [];
    // The fake's own parse, not counted below as the load's.
    const parse = JSON.parse;
    const conn = {
      dialect: 'mysql',
      insertLines: async (_t: unknown, _c: unknown, _d: unknown, lines: Buffer, count: number) => {
        const rows = lines
          .toString()
          .split('\n')
          .filter(Boolean)
          .map((l) => parse(l) as unknown[]);
        expect(rows).toHaveLength(count);
        // Chunk 1 is not taken (a value outside the fast path), nor chunk 2 (a duplicate key makes
        // LOAD DATA warn): they must come back as rows, parsed and checked a group at a time.
        if (rows[0]![0] === chunkRows || rows[0]![0] === 2 * chunkRows) {
          calls.push('declined');
          return undefined;
        }
        calls.push(`lines ${count}`);
        inserted.push(...rows);
        given.push(lines);
        return { written: count };
      },
      writeRows: async (_t: unknown, _c: unknown, rows: unknown[][], options: { mode: string }) => {
        calls.push(`${options.mode} ${rows.length}`);
        written.push(...rows);
        // Chunk 2's second group meets a key already there: the load switches to upserts, as by rows.
        if (options.mode === 'insert' && rows[0]![0] === 2 * chunkRows + LOAD_GROUP_ROWS) {
          throw Object.assign(new Error('duplicate'), { cause: { errno: 1062 } });
        }
        return { written: rows.length };
      },
    } as unknown as DataConnection;
    const parsed = countParsedRows();
    const done: number[] = [];
    try {
      await expect(
        chunkedLoad(conn, { ...plan, freshTable: true }, source, (p) => done.push(p.rowsDone)),
      ).resolves.toEqual({ rowsDone: 4 * chunkRows });
    } finally {
      parsed.restore();
    }
    expect(calls).toEqual([
      `lines ${chunkRows}`,
      'declined',
      `insert ${LOAD_GROUP_ROWS}`,
      `insert ${LOAD_GROUP_ROWS}`,
      'insert 5',
      'declined',
      `insert ${LOAD_GROUP_ROWS}`,
      `insert ${LOAD_GROUP_ROWS}`,
      `upsert ${LOAD_GROUP_ROWS}`,
      'upsert 5',
      // The duplicate switched the load to upserts: chunk 3, cut into lines before the switch, is
      // parsed and upserted, never given to insertLines.
      `upsert ${LOAD_GROUP_ROWS}`,
      `upsert ${LOAD_GROUP_ROWS}`,
      'upsert 5',
    ]);
    expect(done).toEqual([chunkRows, 2 * chunkRows, 3 * chunkRows, 4 * chunkRows]);
    // Every row went in, by lines or by rows, and the rows are the chunks' own.
    const byId = new Map([...inserted, ...written].map((r) => [r[0], r]));
    expect(byId.size).toBe(4 * chunkRows);
    for (const [id, r] of byId) expect(r).toEqual(wide(id as number));
    // The load parsed only the chunks written as rows (chunks 1-3), each row once.
    expect(parsed.seen.rows).toBe(3 * chunkRows);
    // Each chunk's text was given back once written (a detached buffer reads as empty).
    expect(given.map((b) => b.byteLength)).toEqual([0]);
  });
});
