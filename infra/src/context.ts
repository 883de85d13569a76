import { stateDir, type Profile } from './paths';
import { portsFor } from './ports-config';
import { loadOrCreateSecrets } from './secrets';
import { prepareStateDir } from './private-state';
import type { ServiceContext } from './service';

export function serviceContext(
  profile: Profile,
  log: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): ServiceContext {
  const dir = stateDir(profile);
  prepareStateDir(dir);
  return { profile, stateDir: dir, ports: portsFor(profile), secrets: loadOrCreateSecrets(dir), log };
}
