import { stateDir, type Profile } from './paths';
import { portsFor } from './ports-config';
import { loadOrCreateSecrets } from './secrets';
import type { ServiceContext } from './service';

export function serviceContext(
  profile: Profile,
  log: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): ServiceContext {
  const dir = stateDir(profile);
  return { profile, stateDir: dir, ports: portsFor(profile), secrets: loadOrCreateSecrets(dir), log };
}
