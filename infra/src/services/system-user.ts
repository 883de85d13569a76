import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { basename, join } from 'node:path';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * The account Temporal and MinIO run as when the supervisor is root: they ship no Debian package,
 * so no Debian account of theirs exists; ours is made once, with no home and no login shell.
 */
export const SERVICE_ACCOUNT = 'vsc-services';

/** uid/gid of a system account, when the supervisor runs as root and must drop to it. */
export function dropTo(user: string): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** uid/gid of SERVICE_ACCOUNT (created when missing), or undefined when not root (nothing to drop). */
export function serviceAccount(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  try {
    execFileSync('id', ['-u', SERVICE_ACCOUNT], { stdio: 'ignore' });
  } catch {
    execFileSync(
      'useradd',
      [
        '--system',
        '--user-group',
        '--no-create-home',
        '--home-dir',
        '/nonexistent',
        '--shell',
        '/usr/sbin/nologin',
        SERVICE_ACCOUNT,
      ],
      { stdio: 'pipe' },
    );
  }
  return dropTo(SERVICE_ACCOUNT);
}

/** Creates a folder owned by the service account (mode 0700: data folders are private). */
export function privateDir(path: string, owner?: { uid: number; gid: number }): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (owner) chownSync(path, owner.uid, owner.gid);
}

/**
 * A data folder for a service that now runs as `owner`: files an earlier version left owned by root
 * (when the services ran as root) are handed over, or the service could not open its own data.
 */
export function ownedTree(path: string, owner?: { uid: number; gid: number }): void {
  privateDir(path, owner);
  if (!owner) return;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) continue;
      if (st.uid !== owner.uid || st.gid !== owner.gid) chownSync(p, owner.uid, owner.gid);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(path);
}

/**
 * The path of a cached binary that `owner` can execute: the cache lives in root's home (0700), so
 * as root the binary is linked (or copied, across file systems) into the state folder's `bin`.
 */
export function reachableBinary(binary: string, stateDir: string, owner?: { uid: number; gid: number }): string {
  if (!owner) return binary;
  const dir = join(stateDir, 'bin');
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  chmodSync(dir, 0o711);
  const target = join(dir, basename(binary));
  if (!existsSync(target)) {
    rmSync(`${target}.tmp`, { force: true });
    try {
      linkSync(binary, `${target}.tmp`);
    } catch {
      copyFileSync(binary, `${target}.tmp`);
    }
    execFileSync('mv', ['-f', `${target}.tmp`, target]);
  }
  chmodSync(target, 0o755);
  return target;
}
