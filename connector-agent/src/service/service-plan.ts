import { join } from 'node:path';
import { VAULT_KEY_FILE } from '../vault/vault';
import { SERVICE_NAME, stateDirOf, type ServiceSettings } from './service-settings';
import { systemdUnit } from './systemd-unit';
import { icaclsCommands, winswXml } from './windows-service';

/** One step of installing or removing the service: a file written, a file copied, a program run. */
export type ServiceStep =
  | { kind: 'file'; path: string; content: string; mode: number }
  | { kind: 'copy'; from: string; to: string }
  | { kind: 'remove'; path: string }
  | {
      kind: 'run';
      command: string[];
      /** Exit codes that are not a failure (useradd's 9: the user exists already). */
      okCodes?: number[];
      /** Skipped when this file does not exist (the vault key before init). */
      ifExists?: string;
    };

export const SYSTEMD_UNIT_PATH = `/etc/systemd/system/${SERVICE_NAME}.service`;

/**
 * Linux: a system user of its own (no login shell, no home of its own beyond the state folder), the
 * state folder and the vault key made its own and private, the unit written and started.
 */
export function linuxInstallPlan(settings: ServiceSettings): ServiceStep[] {
  const stateDir = stateDirOf(settings);
  const { user } = settings;
  return [
    {
      kind: 'run',
      command: [
        'useradd',
        '--system',
        '--user-group',
        '--home-dir',
        stateDir,
        '--no-create-home',
        '--shell',
        '/usr/sbin/nologin',
        user,
      ],
      okCodes: [9],
    },
    { kind: 'run', command: ['install', '-d', '-m', '0700', '-o', user, '-g', user, stateDir, settings.logDir] },
    { kind: 'run', command: ['chown', '-R', `${user}:${user}`, stateDir] },
    {
      kind: 'run',
      command: ['chmod', '0600', join(stateDir, VAULT_KEY_FILE)],
      ifExists: join(stateDir, VAULT_KEY_FILE),
    },
    { kind: 'file', path: SYSTEMD_UNIT_PATH, content: systemdUnit(settings), mode: 0o644 },
    { kind: 'run', command: ['systemctl', 'daemon-reload'] },
    { kind: 'run', command: ['systemctl', 'enable', '--now', SERVICE_NAME] },
  ];
}

/** Stops and removes the unit; the user, the state (vault, audit chain) and the logs stay. */
export function linuxUninstallPlan(): ServiceStep[] {
  return [
    { kind: 'run', command: ['systemctl', 'disable', '--now', SERVICE_NAME], okCodes: [1, 5] },
    { kind: 'remove', path: SYSTEMD_UNIT_PATH },
    { kind: 'run', command: ['systemctl', 'daemon-reload'] },
  ];
}

/** The WinSW wrapper beside the state, renamed after the service as WinSW expects, with its XML. */
export function windowsWrapperPath(settings: ServiceSettings): string {
  return `${stateDirOf(settings, true)}\\${SERVICE_NAME}.exe`;
}

/**
 * Windows: WinSW (from the node-windows package) as the service wrapper, the state folder and the
 * vault key's ACL left to the service account (plus SYSTEM and Administrators), then installed and started.
 */
export function windowsInstallPlan(settings: ServiceSettings, winswExe: string): ServiceStep[] {
  const stateDir = stateDirOf(settings, true);
  const wrapper = windowsWrapperPath(settings);
  const keyFile = `${stateDir}\\${VAULT_KEY_FILE}`;
  const account = settings.user.includes('\\') ? settings.user : `NT SERVICE\\${settings.user}`;
  const [dirAcl, keyAcl] = icaclsCommands(keyFile, stateDir, account) as [string[], string[]];
  return [
    { kind: 'copy', from: winswExe, to: wrapper },
    { kind: 'file', path: wrapper.replace(/\.exe$/, '.xml'), content: winswXml(settings), mode: 0o644 },
    { kind: 'run', command: dirAcl },
    { kind: 'run', command: keyAcl, ifExists: keyFile },
    { kind: 'run', command: [wrapper, 'install'] },
    { kind: 'run', command: [wrapper, 'start'] },
  ];
}

export function windowsUninstallPlan(settings: ServiceSettings): ServiceStep[] {
  const wrapper = windowsWrapperPath(settings);
  return [
    { kind: 'run', command: [wrapper, 'stop'], okCodes: [1] },
    { kind: 'run', command: [wrapper, 'uninstall'] },
  ];
}

/** How a step reads in --dry-run output and in the report of what was done. */
export function describeStep(step: ServiceStep): string {
  switch (step.kind) {
    case 'file':
      return `write ${step.path} (mode ${step.mode.toString(8).padStart(4, '0')}):\n${step.content.replace(/^/gm, '    ')}`;
    case 'copy':
      return `copy ${step.from} to ${step.to}`;
    case 'remove':
      return `remove ${step.path}`;
    case 'run':
      return `run: ${step.command.map((w) => (/[\s"\\]/.test(w) && !/^[A-Za-z]:\\[^\s"]*$/.test(w) ? JSON.stringify(w) : w)).join(' ')}${step.ifExists ? ` (when ${step.ifExists} exists)` : ''}`;
  }
}
