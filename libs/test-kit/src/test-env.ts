import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/** The repository root: libs/test-kit/src/../../.. */
const repoRoot = resolve(__dirname, '..', '..', '..');

const MariadbAccess = z.object({ host: z.string(), port: z.number().int(), user: z.string(), password: z.string() });
export type MariadbAccess = z.infer<typeof MariadbAccess>;

/** What `./vsc test` (infra's service-directory.ts) writes into the test profile's state folder once its services are up. */
const ServiceDirectory = z.object({
  temporal: z.object({ address: z.string(), namespace: z.string() }),
  postgres: z.object({ url: z.string().url() }),
  mariadb: MariadbAccess,
  redis: z.object({ url: z.string() }),
  minio: z.object({ endpoint: z.string(), accessKeyId: z.string(), secretAccessKey: z.string() }),
});

export interface TestServices {
  temporalAddress: string;
  temporalNamespace: string;
  postgresUrl(database?: string): string;
  mariadb: MariadbAccess;
  redisUrl: string;
  minio: { endpoint: string; accessKeyId: string; secretAccessKey: string };
  sharedData: string | undefined;
  stateDir: string;
}

/** The public test data sets, kept beside the repository (never edited). */
export function sharedDataDir(): string | undefined {
  const candidates = [
    process.env.VSC_SHARED_DATA,
    join(repoRoot, '..', 'shared', 'data'),
    join(repoRoot, 'shared', 'data'),
  ];
  return candidates.find((c): c is string => !!c && existsSync(join(c, 'README.md')));
}

/**
 * Where the services of the test profile are (started by `./vsc test` or `./vsc services test`).
 * Tests call this instead of assuming anything is running on a default port. VSC_SERVICES_PROFILE
 * (or `profile`) names another profile's: `topology` runs a benchmark on `./vsc topology`'s services.
 */
export function testServices(profile = process.env.VSC_SERVICES_PROFILE || 'test'): TestServices {
  // ./vsc runs the unit tier before any service starts; a unit test reaching for one is in the wrong tier.
  if (process.env.VSC_TEST_TIER === 'unit') {
    throw new Error(
      'a unit test (*.test.ts) asked for the test services: name the file *.int.test.ts (integration tier) instead',
    );
  }
  if (!/^[a-z]+$/.test(profile)) throw new Error(`VSC_SERVICES_PROFILE=${profile} is not a profile name`);
  const stateDir = join(process.env.VSC_STATE_DIR ?? join(repoRoot, '.vsc'), profile);
  const file = join(stateDir, 'services.json');
  if (!existsSync(file))
    throw new Error(
      `${file} not found: start the ${profile} services first (${profile === 'test' ? './vsc test, or ./vsc services test' : `./vsc ${profile}`})`,
    );
  const parsed = ServiceDirectory.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success)
    throw new Error(
      `${file} is not a service directory: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const d = parsed.data;
  return {
    temporalAddress: d.temporal.address,
    temporalNamespace: d.temporal.namespace,
    postgresUrl: (database = 'postgres') => `${d.postgres.url}${database}`,
    mariadb: d.mariadb,
    redisUrl: d.redis.url,
    minio: d.minio,
    sharedData: sharedDataDir(),
    stateDir,
  };
}

/**
 * A throwaway PostgreSQL database on the test server, for one test file or benchmark run. With
 * `{ ownLogin: true }` the database (and its public schema) belongs to a login of its own that is NOT a
 * superuser, as `./vsc up` gives the gateway: `url` connects as that login, so row-level security
 * applies (a superuser bypasses every policy); `superuserUrl` is the server's administrator's.
 */
export async function throwawayPostgresDatabase(
  prefix = 'vsc_t',
  options: { ownLogin?: boolean } = {},
): Promise<{ name: string; url: string; superuserUrl: string; drop: () => Promise<void> }> {
  const { Client } = await import('pg');
  const services = testServices();
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const run = async (sql: string, database?: string) => {
    const admin = new Client({ connectionString: services.postgresUrl(database) });
    await admin.connect();
    try {
      await admin.query(sql);
    } finally {
      await admin.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  const superuserUrl = services.postgresUrl(name);
  const dropDatabase = () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  if (!options.ownLogin) return { name, url: superuserUrl, superuserUrl, drop: dropDatabase };
  const login = `${name}_owner`;
  const password = randomBytes(18).toString('hex');
  await run(`CREATE ROLE ${login} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD '${password}'`);
  await run(`ALTER DATABASE ${name} OWNER TO ${login}`);
  await run(`ALTER SCHEMA public OWNER TO ${login}`, name);
  const url = new URL(superuserUrl);
  url.username = login;
  url.password = password;
  return {
    name,
    url: url.toString(),
    superuserUrl,
    drop: async () => {
      await dropDatabase();
      await run(`DROP ROLE IF EXISTS ${login}`);
    },
  };
}
