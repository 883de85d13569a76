import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createHash } from 'node:crypto';

/** Runs `reg query …` and returns its output (injected by tests: no registry here). */
export type RegistryQuery = (args: string[]) => string;

const regQuery: RegistryQuery = (args) =>
  execFileSync('reg', args, { encoding: 'utf8', windowsHide: true, stdio: ['ignore', 'pipe', 'ignore'] });

/**
 * Windows' machine GUID (HKLM\SOFTWARE\Microsoft\Cryptography MachineGuid): set at installation and
 * kept across renames, unlike the host name. Undefined when the value cannot be read.
 */
export function windowsMachineGuid(query: RegistryQuery = regQuery): string | undefined {
  try {
    const out = query(['query', 'HKLM\\SOFTWARE\\Microsoft\\Cryptography', '/v', 'MachineGuid', '/reg:64']);
    return /MachineGuid\s+REG_SZ\s+([0-9a-fA-F-]{36})/.exec(out)?.[1]?.toLowerCase();
  } catch {
    return undefined;
  }
}

function linuxMachineId(): string | undefined {
  for (const path of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      const raw = readFileSync(path, 'utf8').trim();
      if (raw) return raw;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/**
 * A stable identity of this machine; hashed so the raw id never leaves it. Linux: /etc/machine-id;
 * Windows: the machine GUID; the host name only when neither can be read.
 */
export function machineId(
  override?: string,
  platform: NodeJS.Platform = process.platform,
  query: RegistryQuery = regQuery,
): string {
  const raw = override || (platform === 'win32' ? windowsMachineGuid(query) : linuxMachineId());
  return createHash('sha256')
    .update(raw || hostname())
    .digest('hex')
    .slice(0, 32);
}
