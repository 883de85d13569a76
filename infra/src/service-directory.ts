import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceContext } from './service';
import { postgresUrl } from './services/postgres';
import { mariadbRoot } from './services/mariadb';
import { redisUrl } from './services/redis';
import { minioEndpoint } from './services/minio';
import { temporalAddress, TEMPORAL_NAMESPACE } from './services/temporal';

/** The file @vansales/test-kit reads: tests find the services without importing the tooling that starts them. */
export const SERVICE_DIRECTORY_FILE = 'services.json';

/** Written once a profile's services are up (0600: it holds their passwords). */
export function writeServiceDirectory(ctx: ServiceContext): void {
  const directory = {
    temporal: { address: temporalAddress(ctx), namespace: TEMPORAL_NAMESPACE },
    postgres: { url: postgresUrl(ctx, '') },
    mariadb: mariadbRoot(ctx),
    redis: { url: redisUrl(ctx) },
    minio: {
      endpoint: minioEndpoint(ctx),
      accessKeyId: ctx.secrets.minioAccessKey,
      secretAccessKey: ctx.secrets.minioSecretKey,
    },
  };
  writeFileSync(join(ctx.stateDir, SERVICE_DIRECTORY_FILE), JSON.stringify(directory, null, 2), { mode: 0o600 });
}
