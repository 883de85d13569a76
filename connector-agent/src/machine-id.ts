import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createHash } from 'node:crypto';

/** A stable identity of this machine; hashed so the raw id never leaves it. */
export function machineId(override?: string): string {
  let raw = override;
  if (!raw) {
    for (const path of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
      try {
        raw = readFileSync(path, 'utf8').trim();
        if (raw) break;
      } catch {
        // try the next one
      }
    }
  }
  return createHash('sha256')
    .update(raw || hostname())
    .digest('hex')
    .slice(0, 32);
}
