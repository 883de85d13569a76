import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { ensureAptPackages } from '../install';
import { InfraError, InfraErrorCode } from '../errors';
import type { ServiceContext, ServiceSpec } from '../service';
import { dropTo, privateDir } from './system-user';

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const version = versions.find((v) => existsSync(join(root, v, 'bin', 'postgres')));
  if (!version)
    throw new InfraError(
      InfraErrorCode.installFailed,
      'PostgreSQL server binaries not found under /usr/lib/postgresql',
    );
  return join(root, version, 'bin');
}

export function postgresUrl(ctx: Pick<ServiceContext, 'ports' | 'secrets'>, database = 'postgres'): string {
  return `postgres://postgres:${encodeURIComponent(ctx.secrets.postgresPassword)}@127.0.0.1:${ctx.ports.postgres}/${database}`;
}

export const postgresService: ServiceSpec = {
  name: 'postgres',
  ports: (ctx) => [ctx.ports.postgres],
  readyTimeoutMs: 30_000,
  install(ctx) {
    ensureAptPackages([{ probe: '/usr/lib/postgresql', pkg: 'postgresql' }], ctx.log);
  },
  prepare(ctx) {
    const owner = dropTo('postgres');
    const data = join(ctx.stateDir, 'postgres');
    privateDir(join(ctx.stateDir, 'postgres-run'), owner);
    if (existsSync(join(data, 'PG_VERSION'))) return;
    rmSync(data, { recursive: true, force: true });
    privateDir(data, owner);
    const pwfile = join(ctx.stateDir, 'postgres-run', 'pwfile');
    writeFileSync(pwfile, ctx.secrets.postgresPassword, { mode: 0o600 });
    if (owner) execFileSync('chown', [`${owner.uid}:${owner.gid}`, pwfile]);
    try {
      execFileSync(
        join(binDir(), 'initdb'),
        [
          '-D',
          data,
          '-U',
          'postgres',
          `--pwfile=${pwfile}`,
          '--auth-local=scram-sha-256',
          '--auth-host=scram-sha-256',
          '-E',
          'UTF8',
          '--locale=C',
        ],
        { stdio: 'pipe', uid: owner?.uid, gid: owner?.gid },
      );
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
      throw new InfraError(
        InfraErrorCode.serviceFailed,
        `initdb failed: ${stderr.trim().split('\n').slice(-5).join('\n')}`,
      );
    } finally {
      rmSync(pwfile, { force: true });
    }
  },
  launch(ctx) {
    const fast =
      ctx.profile === 'test' ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : [];
    return {
      command: join(binDir(), 'postgres'),
      args: [
        '-D',
        join(ctx.stateDir, 'postgres'),
        '-p',
        String(ctx.ports.postgres),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${join(ctx.stateDir, 'postgres-run')}`,
        '-c',
        'max_connections=200',
        ...fast,
      ],
      user: dropTo('postgres'),
    };
  },
  async ready(ctx) {
    const client = new Client({ connectionString: postgresUrl(ctx), connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } finally {
      await client.end().catch(() => undefined);
    }
  },
};
