import { dirname, isAbsolute, join } from 'node:path';

/** The service's name on both systems (systemd unit, Windows service id) and its Linux user's. */
export const SERVICE_NAME = 'vansales-connector';

/** Everything a service definition is generated from. */
export interface ServiceSettings {
  /** The agent's agent.json (absolute); its folder is the agent's state (vault, audit, caches). */
  configPath: string;
  /** The program and its leading arguments: the single executable, or node and dist/main.js. */
  command: string[];
  /** Linux: the dedicated system user. Windows: the account WinSW runs the service as. */
  user: string;
  /** Where the rotating JSON-lines log goes (default: logs/ beside agent.json). */
  logDir: string;
}

export class ServiceSettingsError extends Error {
  override name = 'ServiceSettingsError';
}

/**
 * The program this process runs as: the single executable alone, or node plus its script. A service
 * must name both by absolute path (systemd resolves nothing through PATH for a hardened unit).
 */
export function currentCommand(argv: string[] = process.argv, execPath = process.execPath): string[] {
  const script = argv[1];
  return script && /\.(c?js|ts)$/.test(script) ? [execPath, script] : [execPath];
}

/** Settings from the command's options, checked: absolute paths, no line breaks, a plain user name. */
export function serviceSettings(options: {
  configPath: string;
  command: string[];
  user?: string;
  logDir?: string;
  windows?: boolean;
}): ServiceSettings {
  const absolute = (p: string) => (options.windows ? /^[A-Za-z]:\\/.test(p) : isAbsolute(p));
  for (const [what, value] of [
    ['--config', options.configPath],
    ['the program', options.command[0] ?? ''],
    ['--log-dir', options.logDir ?? options.configPath],
  ] as const) {
    if (!absolute(value))
      throw new ServiceSettingsError(`${what} must be an absolute path (got ${value || 'nothing'})`);
  }
  for (const part of [options.configPath, options.logDir ?? '', ...options.command])
    if (/[\r\n\0]/.test(part)) throw new ServiceSettingsError('paths must not contain line breaks');
  const user = options.user ?? SERVICE_NAME;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.\\ -]{0,63}$/.test(user))
    throw new ServiceSettingsError(`--user ${JSON.stringify(user)} is not a plain account name`);
  const stateDir = options.windows ? options.configPath.replace(/\\[^\\]*$/, '') : dirname(options.configPath);
  return {
    configPath: options.configPath,
    command: options.command,
    user,
    logDir: options.logDir ?? (options.windows ? `${stateDir}\\logs` : join(stateDir, 'logs')),
  };
}

/** The agent's state folder: the one it may write (vault, audit chain, caches). */
export function stateDirOf(settings: ServiceSettings, windows = false): string {
  return windows ? settings.configPath.replace(/\\[^\\]*$/, '') : dirname(settings.configPath);
}
