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
