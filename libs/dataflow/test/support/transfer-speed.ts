/**
 * MariaDB -> PostgreSQL transfer speed through this package: readRows -> writeRows('insert').
 *   source /tmp/...env && node --import tsx dataflow/test/support/transfer-speed.ts [rows] [batchSize]
 * Generates (once, kept for later runs) a 10-column table in MariaDB database vsc_speed, copies it
 * into a throwaway PostgreSQL database (created with its primary key, as a transfer would) and
 * prints one JSON line: {"rows":..,"seconds":..,"rowsPerSecond":..}.
 */
import { mapColumns, openDataConnection } from '@vansales/dataflow';
import { mariadbAdmin, mariadbConfig, throwawayPostgres } from './databases';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const BATCH = Number(process.argv[3] ?? 10_000);
const DATABASE = 'vsc_speed';
const TABLE = `transfer_${ROWS}`;

async function ensureSource(): Promise<void> {
  await mariadbAdmin(`CREATE DATABASE IF NOT EXISTS ${DATABASE}`);
  const [existing] = (await mariadbAdmin(
    `SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${DATABASE}' AND TABLE_NAME = '${TABLE}'`,
  )) as [{ n: number }[]];
  if (Number(existing[0]?.n) > 0) {
    const [count] = (await mariadbAdmin(`SELECT COUNT(*) AS n FROM ${TABLE}`, DATABASE)) as [{ n: number }[]];
    if (Number(count[0]?.n) === ROWS) return;
    await mariadbAdmin(`DROP TABLE ${TABLE}`, DATABASE);
  }
  await mariadbAdmin(
    [
      `CREATE TABLE ${TABLE} (
        id INT UNSIGNED NOT NULL PRIMARY KEY,
        customer_id INT NOT NULL,
        amount DECIMAL(12,2) NOT NULL,
        ratio DOUBLE,
        quantity SMALLINT,
        name VARCHAR(60) NOT NULL,
        email VARCHAR(100),
        created_at DATETIME NOT NULL,
        birthday DATE,
        active BOOLEAN NOT NULL
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
      `INSERT INTO ${TABLE}
        SELECT seq, seq % 50000, (seq % 100000) / 100 + 0.01, seq / 7, seq % 1000, CONCAT('Customer ', seq), CONCAT('user', seq, '@example.com'),
               '2020-01-01 00:00:00' + INTERVAL seq SECOND, '1950-01-01' + INTERVAL (seq % 20000) DAY, seq % 2
          FROM seq_1_to_${ROWS}`,
    ],
    DATABASE,
  );
}

async function main(): Promise<void> {
  await ensureSource();
  const target = await throwawayPostgres();
  const source = await openDataConnection(mariadbConfig(DATABASE));
  const pg = await openDataConnection(target.config);
  try {
    const described = (await source.describeTable({ name: TABLE }))!;
    const columns = mapColumns(described.columns, 'postgres', TABLE, { keyColumns: described.primaryKey });
    await pg.createTable({ name: TABLE }, described.columns, described.primaryKey);
    const started = process.hrtime.bigint();
    let rows = 0;
    for await (const batch of source.readRows(
      { kind: 'table', table: { name: TABLE }, orderBy: described.primaryKey },
      { batchSize: BATCH },
    )) {
      rows += (
        await pg.writeRows({ name: TABLE }, columns, batch, { mode: 'insert', keyColumns: described.primaryKey })
      ).written;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (rows !== ROWS || (await pg.countRows({ name: TABLE })) !== ROWS)
      throw new Error(`copied ${rows} rows, expected ${ROWS}`);
    console.log(
      JSON.stringify({
        rows,
        columns: columns.length,
        batchSize: BATCH,
        seconds: Number(seconds.toFixed(3)),
        rowsPerSecond: Math.round(rows / seconds),
      }),
    );
  } finally {
    await source.close();
    await pg.close();
    await target.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
