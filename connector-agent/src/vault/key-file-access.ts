import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { aclProblem, parseIcacls } from '../service/windows-service';

/** `icacls <file>`'s answer (injected by tests where Windows cannot be run). */
export type AclReader = (file: string) => string;

const icacls: AclReader = (file) =>
  execFileSync('icacls', [file], { encoding: 'utf8', windowsHide: true, stdio: ['ignore', 'pipe', 'pipe'] });

export interface KeyFileAccessOptions {
  platform?: NodeJS.Platform;
  /** The uid the agent runs as (Linux): the key must be its own. Default: process.getuid(). */
  uid?: number;
  readAcl?: AclReader;
  /** Windows: the account the service runs as (VSC_SERVICE_ACCOUNT, set by the service definition). */
  serviceAccount?: string;
}

/**
 * Why the vault key is not private to this agent, or undefined when it is. Linux: mode 0600 (no group
 * or other bits) and owned by the user the agent runs as (root may read a key it does not own: it can
 * anyway). Windows: no principal beyond the service account (else the running user), SYSTEM and
 * Administrators holds a right on it.
 */
export function keyFileProblem(path: string, options: KeyFileAccessOptions = {}): string | undefined {
  const platform = options.platform ?? process.platform;
  if (platform === 'win32') {
    const account =
      options.serviceAccount ??
      process.env.VSC_SERVICE_ACCOUNT ??
      `${process.env.USERDOMAIN ?? ''}\\${process.env.USERNAME ?? ''}`;
    let out: string;
    try {
      out = (options.readAcl ?? icacls)(path);
    } catch (err) {
      return `its ACL could not be read (${(err as Error).message.split('\n')[0]})`;
    }
    const problem = aclProblem(parseIcacls(out, path), account);
    return (
      problem &&
      `${problem}; run: mini-connector service install (it sets the ACL) or icacls "${path}" /inheritance:r /grant:r "${account}:(R)"`
    );
  }
  const stat = statSync(path);
  const mode = stat.mode & 0o777;
  if (mode & 0o077)
    return `it can be read by other users (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${path}`;
  const uid = options.uid ?? process.getuid?.();
  if (uid !== undefined && uid !== 0 && stat.uid !== uid)
    return `it belongs to uid ${stat.uid}, not to the user this agent runs as (uid ${uid}); run: chown <service user> ${path}`;
  return undefined;
}
