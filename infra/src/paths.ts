import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';

/** The repository root: infra/src/.. or infra/dist/.. */
export const repoRoot = resolve(__dirname, '..', '..');

/** dev: `./vsc up`; test: `./vsc test`; topology: `./vsc topology` (the production layout on one machine). */
export type Profile = 'dev' | 'test' | 'topology';

/** Everything a profile writes (data folders, logs, pid files) lives under one state directory. */
export function stateDir(profile: Profile): string {
  const base = process.env.VSC_STATE_DIR ?? join(repoRoot, '.vsc');
  return join(base, profile);
}

/** The per-machine cache every clone shares (tools, runtimes, built binaries, release builds). */
export function cacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vansales-connect');
}

/** Built binaries (Temporal CLI, MinIO) are shared by every clone on the machine. */
export function binCacheDir(): string {
  return process.env.VSC_BIN_CACHE ?? join(cacheRoot(), 'bin');
}

/** The public test data sets, kept beside the repository (never edited). */
export function sharedDataDir(): string | undefined {
  const candidates = [
    process.env.VSC_SHARED_DATA,
    join(repoRoot, '..', 'shared', 'data'),
    join(repoRoot, 'shared', 'data'),
  ];
  return candidates.find((c): c is string => !!c && existsSync(join(c, 'README.md')));
}
