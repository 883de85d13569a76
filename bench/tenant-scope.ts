import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import {
  createRepositories,
  openMetadataDb,
  PGLITE_APP_ROLE,
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
 *   more round trip, the worst case);
 * - the same on the embedded PGlite store (`pglite …`): `pglite superuser` (RESET ROLE: the store as
 *   it was before it acted as PGLITE_APP_ROLE, policies bypassed), then as the app role.
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

/** 100 connectors per tenant; a read of one by tenant and id, on any store handle. */
async function seed(db: MetadataDb) {
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
  return (on: MetadataDb, i: number) =>
    on
      .selectFrom('connectors')
      .select(['id', 'name'])
      .where('tenant_id', '=', tenantOf(i))
      .where('id', '=', ids[tenantOf(i)]![i % 100]!)
      .executeTakeFirst();
}

/** The three cases of openMetadataDb's own store: unscoped, one scope, alternating scopes. */
async function scopedCases(prefix: string, db: MetadataDb, read: (on: MetadataDb, i: number) => Promise<unknown>) {
  await time(`${prefix}unscoped`, (i) => read(db, i));
  await time(`${prefix}one scope`, (i) => runInTenantScope(TENANTS[0], () => read(db, i * 2)));
  await time(`${prefix}alternating scopes`, (i) => runInTenantScope(TENANTS[i % 2]!, () => read(db, i)));
}

async function postgres() {
  const store = await freshDatabase('vsc_bench_rls', { ownLogin: true });
  const db = await openMetadataDb({ kind: 'postgres', url: store.url });
  const plain = (url: string): MetadataDb =>
    new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 10 }) }) });
  const superuser = plain(store.superuserUrl);
  const owner = plain(store.url);
  try {
    const read = await seed(db);
    await time('superuser, no hook', (i) => read(superuser, i));
    await time('owner, no hook', (i) => read(owner, i));
    await scopedCases('', db, read);
  } finally {
    await Promise.all([db.destroy(), superuser.destroy(), owner.destroy()]);
    await store.drop();
  }
}

async function pglite() {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-bench-pglite-'));
  const db = await openMetadataDb({ kind: 'pglite', dir });
  try {
    const read = await seed(db);
    await sql`RESET ROLE`.execute(db);
    await time('pglite superuser', (i) => read(db, i));
    await sql`SET ROLE ${sql.id(PGLITE_APP_ROLE)}`.execute(db);
    await scopedCases('pglite ', db, read);
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  await postgres();
  await pglite();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
