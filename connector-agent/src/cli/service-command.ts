import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseCommand } from '@vansales/protocol';
import { applyServicePlan } from '../service/apply-plan';
import {
  linuxInstallPlan,
  linuxUninstallPlan,
  windowsInstallPlan,
  windowsUninstallPlan,
  windowsWrapperPath,
} from '../service/service-plan';
import {
  currentCommand,
  SERVICE_NAME,
  serviceSettings,
  ServiceSettingsError,
  type ServiceSettings,
} from '../service/service-settings';
import { AGENT_LOG_FILE } from '../log-file';
import { VERSION_LINE, type CliCommand, type CliIo } from './command';

const USAGE = `usage: mini-connector service install|uninstall|status|logs [options]

  install     Linux: a system user (${SERVICE_NAME}), the state folder made its own (0700, vault key
              0600), a hardened systemd unit, enabled and started. Windows: WinSW (shipped by the
              node-windows package) as the service wrapper, the state folder and vault key's ACL left to
              the service's account (NT SERVICE\\${SERVICE_NAME}), SYSTEM and Administrators; installed, started.
  uninstall   stops and removes the service; the state (vault, audit chain) and logs stay.
  status      the service manager's view (systemctl status / WinSW status).
  logs        Linux: the journal (journalctl -u ${SERVICE_NAME}); Windows, or --file: the agent's own
              rotating JSON-lines file.

  --config <agent.json>   the agent's configuration (absolute path; install); VSC_AGENT_CONFIG also works
  --user <name>           the service's account (default ${SERVICE_NAME})
  --log-dir <dir>         the rotating log's folder (default logs/ beside agent.json)
  --dry-run               print every file and command, change nothing
  --root <dir>            write the files under <dir> and run no command (packaging, tests)
  --platform linux|windows  the system to generate for (default this one; with --dry-run on another)
  --program <path>        the agent's program as the service starts it (default this one: the single
                          executable, or node and its script; generating for Windows elsewhere:
                          mini-connector.exe beside agent.json)
  --winsw <winsw.exe>     the WinSW executable (default the one the single executable carries, or
                          from source, the node-windows package's)
  --lines <n>             logs: how many lines (default 200)
  --file                  logs: read the rotating file, not the journal
`;

const OPTIONS = {
  config: { type: 'string' },
  user: { type: 'string' },
  'log-dir': { type: 'string' },
  'dry-run': { type: 'boolean' },
  root: { type: 'string' },
  platform: { type: 'string' },
  winsw: { type: 'string' },
  program: { type: 'string' },
  lines: { type: 'string' },
  file: { type: 'boolean' },
} as const;

/**
 * WinSW as the node-windows package ships it (bin/winsw/winsw.exe). The single executable carries that
 * file and unpacks it beside its bundled code, since a site has no node-windows package to resolve.
 */
function defaultWinsw(): string {
  const beside = join(__dirname, 'winsw.exe');
  if (existsSync(beside)) return beside;
  return join(dirname(require.resolve('node-windows/package.json')), 'bin', 'winsw', 'winsw.exe');
}

/** The last `lines` lines of the agent's rotating log file. */
function tailLogFile(settings: ServiceSettings, lines: number, io: CliIo): number {
  const path = join(settings.logDir, AGENT_LOG_FILE);
  if (!existsSync(path)) {
    io.stderr.write(`no log file at ${path} yet (the agent writes it once it runs as a service)\n`);
    return 1;
  }
  const text = readFileSync(path, 'utf8').split('\n');
  if (text.at(-1) === '') text.pop();
  io.stdout.write(`${text.slice(-lines).join('\n')}\n`);
  return 0;
}

const passThrough = (command: string[]): number => {
  const result = spawnSync(command[0] as string, command.slice(1), { stdio: 'inherit', windowsHide: true });
  if (result.error) throw result.error;
  return result.status ?? 1;
};

export const serviceCommand: CliCommand = {
  words: ['service'],
  summary: 'install, remove or inspect the agent as a system service (systemd or a Windows service)',
  async run(args, io) {
    const parsed = parseCommand(
      args,
      { usage: USAGE, version: VERSION_LINE, options: OPTIONS, positionals: { min: 1, max: 1 } },
      io,
    );
    if (!parsed.ok) return parsed.exitCode;
    const action = parsed.positionals[0]!;
    const v = parsed.values;
    if (!['install', 'uninstall', 'status', 'logs'].includes(action)) {
      io.stderr.write(`unknown action ${action}: install, uninstall, status or logs\n${USAGE}`);
      return 2;
    }
    const platform = v.platform ?? (process.platform === 'win32' ? 'windows' : 'linux');
    if (platform !== 'linux' && platform !== 'windows') {
      io.stderr.write(`--platform ${platform}: linux or windows\n`);
      return 2;
    }
    const windows = platform === 'windows';
    if (windows !== (process.platform === 'win32') && !v['dry-run'] && !v.root) {
      io.stderr.write(`a ${platform} service is installed on ${platform}; here only --dry-run or --root can show it\n`);
      return 2;
    }
    // The unit's name is all systemd needs to answer these; the config matters only to install and the log file.
    if (!windows && action === 'status') return passThrough(['systemctl', 'status', SERVICE_NAME, '--no-pager']);
    const configFlag = v.config ?? io.env.VSC_AGENT_CONFIG;
    if (!configFlag) {
      io.stderr.write('no configuration: pass --config <agent.json> or set VSC_AGENT_CONFIG\n');
      return 2;
    }
    let settings: ServiceSettings;
    try {
      settings = serviceSettings({
        configPath: windows ? configFlag : resolve(configFlag),
        command: v.program
          ? [v.program]
          : windows !== (process.platform === 'win32')
            ? [`${configFlag.replace(/[\\/][^\\/]*$/, '')}\\mini-connector.exe`]
            : currentCommand(),
        ...(v.user ? { user: v.user } : {}),
        ...(v['log-dir'] ? { logDir: v['log-dir'] } : {}),
        windows,
      });
    } catch (err) {
      if (!(err instanceof ServiceSettingsError)) throw err;
      io.stderr.write(`${err.message}\n`);
      return 2;
    }
    const apply = { dryRun: !!v['dry-run'], ...(v.root ? { root: v.root } : {}), out: io.stdout, err: io.stderr };
    switch (action) {
      case 'install':
        if (!windows && !v['dry-run'] && !v.root && !existsSync(settings.configPath)) {
          io.stderr.write(`${settings.configPath} does not exist: run mini-connector init first\n`);
          return 2;
        }
        // ProtectHome hides /home, /root and /run/user from the service: a program there would not start.
        for (const path of windows ? [] : [...settings.command, settings.configPath])
          if (/^\/(home|root|run\/user)(\/|$)/.test(path))
            io.stderr.write(
              `warning: ${path} is under a home folder, which the hardened unit cannot see (ProtectHome); install the agent elsewhere (e.g. /opt/vansales)\n`,
            );
        return applyServicePlan(
          windows ? windowsInstallPlan(settings, v.winsw ?? defaultWinsw()) : linuxInstallPlan(settings),
          apply,
        );
      case 'uninstall':
        return applyServicePlan(windows ? windowsUninstallPlan(settings) : linuxUninstallPlan(), apply);
      case 'status':
        return passThrough([windowsWrapperPath(settings), 'status']);
      default: {
        const lines = Number(v.lines ?? 200);
        if (!Number.isInteger(lines) || lines < 1) {
          io.stderr.write(`--lines ${v.lines}: a whole number of lines\n`);
          return 2;
        }
        if (windows || v.file) return tailLogFile(settings, lines, io);
        return passThrough(['journalctl', '-u', SERVICE_NAME, '-o', 'cat', '-n', String(lines), '--no-pager']);
      }
    }
  },
};
