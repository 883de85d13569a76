import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import {
  createRepositories,
  openMetadataDb,
  runInTenantScope,
  type Database,
  type MetadataDb,
} from '@vansales/metadata';
import { cliOption, emit, freshDatabase, percentile, round } from './support';

/*
 * What the second wall of tenant isolation (row-level security, metadata migration 0024, and the
 * tenant scope set on each connection) costs a query: one connector read by tenant and id, run
 * one after another on the pool, in microseconds, p50 and p99 over --queries (5,000) each:
 *
 * - `superuser, no hook`: the store as before (a login that bypasses the policies, no scope hook);
 * - `owner, no hook`: the policies evaluated (empty setting), no scope hook;
 * - `unscoped`: openMetadataDb's store outside any scope (the hook finds the setting already empty);
 * - `one scope`: every query in the same tenant's scope (the hook finds it already set);
 * - `alternating scopes`: each query in the other tenant's scope (the hook sets it every time: one
 *   more round trip, the worst case).
 *
 *   ./vsc bench tenant-scope [--queries 5000]
 */
const QUERIES = Number(cliOption('queries') ?? 5_000);
const TENANTS = ['bench-a', 'bench-b'] as const;

async function time(label: string, query: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 200; i++) await query(i); // warm: plans cached, pool connected
  const micros: number[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const start = performance.now();
    await query(i);
    micros.push((performance.now() - start) * 1000);
  }
  micros.sort((x, y) => x - y);
  emit({
    bench: 'tenant-scope',
    case: label,
    queries: QUERIES,
    p50Us: round(percentile(micros, 50), 0),
    p99Us: round(percentile(micros, 99), 0),
  });
}

async function main() {
  const store = await freshDatabase('vsc_bench_rls', { ownLogin: true });
  const db = await openMetadataDb({ kind: 'postgres', url: store.url });
  const plain = (url: string): MetadataDb =>
    new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 10 }) }) });
  const superuser = plain(store.superuserUrl);
  const owner = plain(store.url);
  try {
    const repos = createRepositories(db);
    const ids: Record<string, string[]> = {};
    for (const tenant of TENANTS) {
      await repos.upsertTenant({ id: tenant, name: tenant });
      ids[tenant] = [];
      for (let i = 0; i < 100; i++) {
        const id = randomUUID();
        await repos.createConnector({ id, tenantId: tenant, name: `site-${i}` });
        ids[tenant].push(id);
      }
    }
    const tenantOf = (i: number) => TENANTS[i % 2]!;
    const read = (on: MetadataDb, i: number) =>
      on
        .selectFrom('connectors')
        .select(['id', 'name'])
        .where('tenant_id', '=', tenantOf(i))
        .where('id', '=', ids[tenantOf(i)]![i % 100]!)
        .executeTakeFirst();
    await time('superuser, no hook', (i) => read(superuser, i));
    await time('owner, no hook', (i) => read(owner, i));
    await time('unscoped', (i) => read(db, i));
    await time('one scope', (i) => runInTenantScope(TENANTS[0], () => read(db, i * 2)));
    await time('alternating scopes', (i) => runInTenantScope(tenantOf(i), () => read(db, i)));
  } finally {
    await Promise.all([db.destroy(), superuser.destroy(), owner.destroy()]);
    await store.drop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
