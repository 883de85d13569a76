import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { mapColumns, openDataConnection } from '@vansales/dataflow';
import { mariadbConfig, throwawayPostgres } from './databases';
const ticks = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
async function main() {
  const TABLE = 'transfer_1000000';
  const target = await throwawayPostgres();
  const source = await openDataConnection(mariadbConfig('vsc_speed'));
  const pg = await openDataConnection({ ...target.config, poolSize: 1 });
  const d = (await source.describeTable({ name: TABLE }))!;
  const columns = mapColumns(d.columns, 'postgres', TABLE, { keyColumns: d.primaryKey });
  await pg.createTable({ name: TABLE }, d.columns, d.primaryKey);
  const admin = new Client({ connectionString: `postgres://postgres:XAfDtRJ6wJGkdYbWCc_-3hBy@127.0.0.1:53432/postgres` }); await admin.connect();
  const backend = Number((await admin.query(`select pid from pg_stat_activity where application_name = 'vansales-dataflow' and datname = '${target.name}'`)).rows[0].pid);
  const mariaPid = Number(readFileSync('/tmp/vsc-b/test/mariadb-run/mariadb.pid', 'utf8'));
  const pg0 = ticks(backend), my0 = ticks(mariaPid), cpu0 = process.cpuUsage(), t0 = performance.now();
  for await (const batch of source.readRows({ kind: 'table', table: { name: TABLE }, orderBy: d.primaryKey }, { batchSize: 10000 })) await pg.writeRows({ name: TABLE }, columns, batch, { mode: 'insert', keyColumns: [] });
  const cu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ wallMs: Math.round(performance.now() - t0), nodeCpuMs: Math.round((cu.user + cu.system) / 1000), pgCpuMs: ticks(backend) - pg0, mariadbCpuMs: ticks(mariaPid) - my0 }));
  await admin.end(); await source.close(); await pg.close(); await target.drop();
}
main();
