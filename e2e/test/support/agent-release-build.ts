import { spawnSync } from 'node:child_process';
import { resolve, join } from 'node:path';

const repoRoot = resolve(__dirname, '..', '..', '..');

/**
 * `./vsc release agent --out <dir> [args]` through the built CLI (infra/dist): the single
 * executables, their sums and signature. Unchanged sources reuse the machine cache's executables.
 */
export function buildAgentReleaseInto(outDir: string, args: string[] = []): void {
  const built = spawnSync(
    process.execPath,
    [join(repoRoot, 'infra/dist/cli.js'), 'release', 'agent', '--out', outDir, ...args],
    { encoding: 'utf8', timeout: 600_000 },
  );
  if (built.status !== 0) throw new Error(`./vsc release agent failed:\n${built.stdout}\n${built.stderr}`);
}

/**
 * `init` of an agent executable for Sakila on the test MariaDB: its arguments and the environment that
 * holds the secrets (the API key and the database password never go on the command line).
 */
export function sakilaInit(
  site: string,
  gatewayWsUrl: string,
  mariadbPort: number,
  login: { user: string; password: string },
  apiKey: string,
): { args: string[]; env: Record<string, string> } {
  return {
    args: [
      'init',
      '--non-interactive',
      '--dir',
      site,
      '--gateway-url',
      gatewayWsUrl,
      '--api-key-env',
      'SITE_KEY',
      '--database',
      `name=sakila,dialect=mysql,host=127.0.0.1,port=${mariadbPort},user=${login.user},database=sakila,password-env=SITE_DB_PW`,
    ],
    env: { SITE_KEY: apiKey, SITE_DB_PW: login.password },
  };
}
