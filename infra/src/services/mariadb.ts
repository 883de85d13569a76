import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';
import { ensureAptPackages } from '../install';
import { InfraError, InfraErrorCode } from '../errors';
import type { ServiceContext, ServiceSpec } from '../service';
import { dropTo, privateDir } from './system-user';

export function mariadbSocket(ctx: Pick<ServiceContext, 'stateDir'>): string {
  return join(ctx.stateDir, 'mariadb-run', 'mariadb.sock');
}

/** SQL run by mariadbd itself before it listens, on the first start of a fresh data folder. */
function initFile(ctx: Pick<ServiceContext, 'stateDir'>): string {
  return join(ctx.stateDir, 'mariadb-run', 'init.sql');
}

/** A string literal of MariaDB's SQL: backslashes and quotes escaped. */
const sqlString = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * The statements that give root its password and a loopback TCP account. In an init file they run
 * before the server accepts a single connection: a fresh server never listens with a password-less
 * root, even for the moment between its start and our first login.
 */
export function rootPasswordSql(password: string): string {
  const pw = sqlString(password);
  return [
    `CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ${pw};`,
    `ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY ${pw};`,
    `GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;`,
    `ALTER USER 'root'@'localhost' IDENTIFIED BY ${pw};`,
    '',
  ].join('\n');
}

export interface MariadbAccess {
  host: string;
  port: number;
  user: string;
  password: string;
}

export function mariadbRoot(ctx: Pick<ServiceContext, 'ports' | 'secrets'>): MariadbAccess {
  return { host: '127.0.0.1', port: ctx.ports.mariadb, user: 'root', password: ctx.secrets.mariadbPassword };
}

export const mariadbService: ServiceSpec = {
  name: 'mariadb',
  ports: (ctx) => [ctx.ports.mariadb],
  readyTimeoutMs: 60_000,
  install(ctx) {
    ensureAptPackages(
      [
        { probe: 'mariadbd', pkg: 'mariadb-server' },
        { probe: 'mariadb', pkg: 'mariadb-client' },
      ],
      ctx.log,
    );
  },
  prepare(ctx) {
    const owner = dropTo('mysql');
    const data = join(ctx.stateDir, 'mariadb');
    privateDir(join(ctx.stateDir, 'mariadb-run'), owner);
    if (existsSync(join(data, 'mysql'))) return;
    rmSync(data, { recursive: true, force: true });
    privateDir(data, owner);
    try {
      execFileSync(
        'mariadb-install-db',
        [
          '--no-defaults',
          `--datadir=${data}`,
          '--auth-root-authentication-method=normal',
          '--skip-test-db',
          ...(owner ? ['--user=mysql'] : []),
        ],
        { stdio: 'pipe' },
      );
    } catch (err) {
      const out = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
      throw new InfraError(
        InfraErrorCode.serviceFailed,
        `mariadb-install-db failed: ${out.trim().split('\n').slice(-5).join('\n')}`,
      );
    }
    // The password file lives in the 0700 run folder of the server's user, only until the first start is over.
    writeFileSync(initFile(ctx), rootPasswordSql(mariadbRoot(ctx).password), { mode: 0o600 });
    if (owner) chownSync(initFile(ctx), owner.uid, owner.gid);
  },
  launch(ctx) {
    const owner = dropTo('mysql');
    const fast = ctx.profile === 'test' ? ['--innodb-flush-log-at-trx-commit=0', '--sync-binlog=0'] : [];
    return {
      command: 'mariadbd',
      args: [
        '--no-defaults',
        `--datadir=${join(ctx.stateDir, 'mariadb')}`,
        `--port=${ctx.ports.mariadb}`,
        '--bind-address=127.0.0.1',
        `--socket=${mariadbSocket(ctx)}`,
        `--pid-file=${join(ctx.stateDir, 'mariadb-run', 'mariadb.pid')}`,
        // Its on-disk temporary tables (a catalog query makes them) in its own private folder, not the
        // shared /tmp: a CI run failed when something cleaning /tmp removed one mid-query.
        `--tmpdir=${join(ctx.stateDir, 'mariadb-run')}`,
        '--skip-name-resolve',
        '--character-set-server=utf8mb4',
        '--collation-server=utf8mb4_unicode_ci',
        '--max-allowed-packet=256M',
        ...(owner ? ['--user=mysql'] : []),
        ...(existsSync(initFile(ctx)) ? [`--init-file=${initFile(ctx)}`] : []),
        ...fast,
      ],
    };
  },
  async ready(ctx) {
    const conn = await connectAsRoot(ctx);
    if (!conn) return false;
    await conn.end();
    return true;
  },
  async afterReady(ctx) {
    rmSync(initFile(ctx), { force: true });
    const root = mariadbRoot(ctx);
    try {
      const conn = await createConnection(root);
      await conn.end();
      return;
    } catch {
      // a data folder made before the init file: give root a password and a loopback TCP account
    }
    const conn = await connectAsRoot(ctx);
    if (!conn) throw new InfraError(InfraErrorCode.serviceFailed, 'cannot log in to MariaDB as root to set it up');
    try {
      const pw = conn.escape(root.password);
      // install-db may already have made a password-less root@127.0.0.1: create, then always set.
      await conn.query(`CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ${pw}`);
      await conn.query(`ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY ${pw}`);
      await conn.query(`GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION`);
      await conn.query(`ALTER USER 'root'@'localhost' IDENTIFIED BY ${pw}`);
      await conn.query('FLUSH PRIVILEGES');
    } finally {
      await conn.end();
    }
  },
};

/** Root over TCP with the password, else over the socket (password-less on a fresh data folder). */
async function connectAsRoot(ctx: ServiceContext): Promise<Connection | undefined> {
  const root = mariadbRoot(ctx);
  const attempts = [
    root,
    { socketPath: mariadbSocket(ctx), user: 'root' },
    { socketPath: mariadbSocket(ctx), user: 'root', password: root.password },
  ];
  for (const opts of attempts) {
    try {
      return await createConnection({ ...opts, connectTimeout: 1000 });
    } catch {
      // try the next way in
    }
  }
  return undefined;
}
