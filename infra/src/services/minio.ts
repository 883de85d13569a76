import { join } from 'node:path';
import { ensureGoBinary, MINIO } from '../install';
import type { ServiceContext, ServiceSpec } from '../service';
import { ownedTree, reachableBinary, serviceAccount } from './system-user';

let binary: string | undefined;

export function minioEndpoint(ctx: Pick<ServiceContext, 'ports'>): string {
  return `http://127.0.0.1:${ctx.ports.minio}`;
}

export const minioService: ServiceSpec = {
  name: 'minio',
  ports: (ctx) => [ctx.ports.minio, ctx.ports.minioConsole],
  readyTimeoutMs: 60_000,
  install(ctx) {
    binary = ensureGoBinary(MINIO, ctx.log);
  },
  prepare(ctx) {
    // As root, MinIO runs as the services' own account, in a folder only it can open.
    ownedTree(join(ctx.stateDir, 'minio'), serviceAccount());
  },
  launch(ctx) {
    const owner = serviceAccount();
    return {
      command: reachableBinary(binary ?? ensureGoBinary(MINIO, ctx.log), ctx.stateDir, owner),
      user: owner,
      args: [
        'server',
        join(ctx.stateDir, 'minio'),
        // Not ~/.minio/certs: the account has no home.
        '--certs-dir',
        join(ctx.stateDir, 'minio', '.certs'),
        '--address',
        `127.0.0.1:${ctx.ports.minio}`,
        '--console-address',
        `127.0.0.1:${ctx.ports.minioConsole}`,
        '--quiet',
      ],
      // Credentials by environment, never on the command line.
      env: {
        MINIO_ROOT_USER: ctx.secrets.minioAccessKey,
        MINIO_ROOT_PASSWORD: ctx.secrets.minioSecretKey,
        MINIO_UPDATE: 'off',
        ...(owner ? { HOME: join(ctx.stateDir, 'minio') } : {}),
      },
    };
  },
  async ready(ctx) {
    const res = await fetch(`${minioEndpoint(ctx)}/minio/health/ready`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  },
};
