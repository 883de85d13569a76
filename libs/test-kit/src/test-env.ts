import { randomBytes } from 'node:crypto';
import { serviceContext } from '../../../infra/src/context';
import { postgresUrl } from '../../../infra/src/services/postgres';
import { mariadbRoot, type MariadbAccess } from '../../../infra/src/services/mariadb';
import { redisUrl } from '../../../infra/src/services/redis';
import { minioEndpoint } from '../../../infra/src/services/minio';
import { temporalAddress, TEMPORAL_NAMESPACE } from '../../../infra/src/services/temporal';
import { sharedDataDir } from '../../../infra/src/paths';

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

/**
 * Where the services of the test profile are (started by `./vsc test` or `./vsc services test`).
 * Tests call this instead of assuming anything is running on a default port.
 */
export function testServices(): TestServices {
  const ctx = serviceContext('test', () => undefined);
  return {
    temporalAddress: temporalAddress(ctx),
    temporalNamespace: TEMPORAL_NAMESPACE,
    postgresUrl: (database) => postgresUrl(ctx, database),
    mariadb: mariadbRoot(ctx),
    redisUrl: redisUrl(ctx),
    minio: { endpoint: minioEndpoint(ctx), accessKeyId: ctx.secrets.minioAccessKey, secretAccessKey: ctx.secrets.minioSecretKey },
    sharedData: sharedDataDir(),
    stateDir: ctx.stateDir,
  };
}

/** A throwaway PostgreSQL database on the test server, for one test file or benchmark run. */
export async function throwawayPostgresDatabase(prefix = 'vsc_t'): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const { Client } = await import('pg');
  const services = testServices();
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const run = async (sql: string) => {
    const admin = new Client({ connectionString: services.postgresUrl() });
    await admin.connect();
    try {
      await admin.query(sql);
    } finally {
      await admin.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  return { name, url: services.postgresUrl(name), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
