import { mkdirSync, statSync } from 'node:fs';

/**
 * State folders (0700) and secret files (0600) that only their owner may read. Each process checks
 * its own at start and refuses to run when one is open to others, saying the chmod that fixes it:
 * a key readable by every local user is a key given away, and quietly tightening it would hide that
 * it was exposed. POSIX modes mean nothing on Windows, where the folder's ACL protects them.
 */
export class PrivatePathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrivatePathError';
  }
}

const checksModes = () => process.platform !== 'win32';
const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, '0');

/**
 * Creates `path` (and missing parents) with mode 0700, or checks an existing folder: it must be a
 * folder, owned by this user, closed to group and others. `what` names it in the message.
 */
export function ensurePrivateDir(path: string, what: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (!checksModes()) return;
  const st = statSync(path);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw new PrivatePathError(`${what} ${path} is not a folder owned by this user; remove it or choose another`);
  }
  if (st.mode & 0o077) {
    throw new PrivatePathError(
      `${what} ${path} is open to other users (mode ${octal(st.mode)}); run: chmod 700 ${path}`,
    );
  }
}

/** Checks that a secret file exists and only its owner can read or write it (0600 or tighter). */
export function checkPrivateFile(path: string, what: string): void {
  if (!checksModes()) return;
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new PrivatePathError(`${what} ${path} does not exist`);
  if (!st.isFile()) throw new PrivatePathError(`${what} ${path} is not a regular file`);
  if (st.mode & 0o077) {
    throw new PrivatePathError(
      `${what} ${path} can be read by other users (mode ${octal(st.mode)}); run: chmod 600 ${path}`,
    );
  }
}
