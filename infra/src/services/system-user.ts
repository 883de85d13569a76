import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** uid/gid of a system account, when the supervisor runs as root and must drop to it. */
export function dropTo(user: string): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** Creates a folder owned by the service account (mode 0700: data folders are private). */
export function privateDir(path: string, owner?: { uid: number; gid: number }): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (owner) chownSync(path, owner.uid, owner.gid);
}
