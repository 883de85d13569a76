/**
 * How a load writes into a MariaDB table it created (the insert path of `writeRows`): one
 * `LOAD DATA LOCAL INFILE` per chunk against multi-row INSERT statements, on the same rows of the
 * generated data-transfer table, in the same run, alternating. The INSERT side is the very same
 * call with the server's `local_infile` off (the fallback the writer takes then). Each round loads
 * `--rows` rows in chunks of `--chunk-rows` into a fresh table and checks the count.
 *
 *   ./vsc bench mariadb-load [--rows 200000] [--chunk-rows 50000] [--rounds 2]
 */
import { performance } from 'node:perf_hooks';
import { openDataConnection, type DataConnection } from '@vansales/dataflow';
import { ensureGeneratedTable, mariadb } from './generated-table';
import { cliOption, emit, round, services } from './support';

const ROWS = Number(cliOption('rows') ?? 200_000);
const CHUNK_ROWS = Number(cliOption('chunk-rows') ?? 50_000);
const ROUNDS = Number(cliOption('rounds') ?? 2);
const SOURCE = 'vsc_bench';
const TABLE = 'rows_1m';
const TARGET = 'vsc_bench_load';

const open = (database: string): Promise<DataConnection> =>
  openDataConnection({ dialect: 'mysql', ...services.mariadb, database });

async function setLocalInfile(on: boolean): Promise<void> {
  const conn = await mariadb();
  try {
    await conn.query(`SET GLOBAL local_infile = ${on ? 1 : 0}`);
  } finally {
    await conn.end();
  }
}

async function main(): Promise<void> {
  await ensureGeneratedTable(SOURCE, TABLE, 1_000_000, (line) =>
    process.stderr.write(`[bench mariadb-load] ${line}\n`),
  );
  const source = await open(SOURCE);
  const described = (await source.describeTable({ name: TABLE }))!;
  const chunks: unknown[][][] = [];
  let read = 0;
  for await (const batch of source.readRows(
    { kind: 'table', table: { name: TABLE }, orderBy: ['id'] },
    { batchSize: CHUNK_ROWS },
  )) {
    chunks.push(batch.slice(0, ROWS - read));
    read += chunks.at(-1)!.length;
    if (read >= ROWS) break;
  }
  await source.close();
  const admin = await mariadb();
  await admin.query(`CREATE DATABASE IF NOT EXISTS ${TARGET} CHARACTER SET utf8mb4`);
  await admin.end();

  const once = async (path: 'load-data-local' | 'insert-statements', n: number) => {
    await setLocalInfile(path === 'load-data-local');
    // A new pool per round: the writer remembers a refusal per pool.
    const conn = await open(TARGET);
    const table = { name: `t_${path.replace(/-/g, '_')}_${n}` };
    try {
      await conn.createTable(table, described.columns, ['id']);
      const t0 = performance.now();
      for (const rows of chunks)
        await conn.writeRows(table, described.columns, rows, { mode: 'insert', keyColumns: ['id'] });
      const seconds = (performance.now() - t0) / 1000;
      const count = await conn.countRows(table);
      if (count !== read) throw new Error(`${path}: ${count} rows written, ${read} expected`);
      emit({
        bench: 'mariadb-load',
        path,
        round: n,
        rows: read,
        chunkRows: CHUNK_ROWS,
        seconds: round(seconds, 3),
        rowsPerSecond: Math.round(read / seconds),
      });
      return seconds;
    } finally {
      await conn.close();
    }
  };
  const totals = { 'load-data-local': 0, 'insert-statements': 0 };
  try {
    for (let n = 1; n <= ROUNDS; n++) {
      totals['insert-statements'] += await once('insert-statements', n);
      totals['load-data-local'] += await once('load-data-local', n);
    }
  } finally {
    await setLocalInfile(true);
    const conn = await mariadb();
    await conn.query(`DROP DATABASE IF EXISTS ${TARGET}`);
    await conn.end();
  }
  emit({
    bench: 'mariadb-load',
    summary: true,
    rows: read,
    speedup: round(totals['insert-statements'] / totals['load-data-local'], 2),
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
