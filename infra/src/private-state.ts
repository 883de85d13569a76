import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkPrivateFile, PrivatePathError } from '@vansales/protocol';
import { InfraError, InfraErrorCode } from './errors';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * The mode of the state folders (`.vsc` and `.vsc/<profile>`): 0700, for this user only. As root
 * the database servers run as their own users (postgres, mysql, redis), which must pass through to
 * their own 0700 folders inside: 0711 then (no one else can list or read anything).
 */
export function stateDirMode(): number {
  return isRoot() ? 0o711 : 0o700;
}

/** Creates a private folder, or refuses one that is open wider, saying the chmod that fixes it. */
export function privateStateDir(path: string, mode = 0o700): void {
  const existed = statSync(path, { throwIfNoEntry: false });
  mkdirSync(path, { recursive: true, mode });
  if (!existed) chmodSync(path, mode); // the umask may have taken bits mkdir was given
  const actual = statSync(path).mode & 0o777;
  if (actual & ~mode) {
    throw new InfraError(
      InfraErrorCode.badConfig,
      `${path} is open to other users (mode ${actual.toString(8).padStart(4, '0')}); run: chmod ${mode.toString(8)} ${path}`,
    );
  }
}

/** The profile's state folder and the folder above it (VSC_STATE_DIR, `.vsc` by default). */
export function prepareStateDir(dir: string): void {
  privateStateDir(dirname(dir), stateDirMode());
  privateStateDir(dir, stateDirMode());
}

/** A secret file must be 0600: refused with the chmod otherwise. */
export function checkSecretFile(path: string, what: string): void {
  try {
    checkPrivateFile(path, what);
  } catch (err) {
    if (err instanceof PrivatePathError) throw new InfraError(InfraErrorCode.badConfig, err.message);
    throw err;
  }
}
