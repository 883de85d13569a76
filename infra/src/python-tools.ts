import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binCacheDir } from './paths';
import { ensureAptPackages, type Logger } from './install';
import { InfraError, InfraErrorCode } from './errors';

export interface PythonTool {
  /** The PyPI package, and the console script it installs. */
  name: string;
  version: string;
}

/** REST fuzzing from /openapi.json (e2e/test/rest-fuzz.e2e.test.ts and `./vsc bench rest-fuzz`). */
export const SCHEMATHESIS: PythonTool = { name: 'schemathesis', version: '4.32.5' };

/** Python tools live beside the Go-built binaries, one virtualenv per tool and version. */
export function pythonToolDir(tool: PythonTool): string {
  return join(binCacheDir(), '..', 'python', `${tool.name}-${tool.version}`);
}

const canMakeVenv = () => spawnSync('python3', ['-c', 'import ensurepip, venv'], { stdio: 'ignore' }).status === 0;

/**
 * Returns the path of a Python tool's console script, installing it once into its own virtualenv
 * (pip from PyPI, pinned version). The virtualenv is made at its final path (its scripts carry that
 * path in their first line) and counts as installed only once the stamp file written last exists,
 * so an interrupted install is redone instead of used.
 */
export function ensurePythonTool(tool: PythonTool, log: Logger): string {
  const dir = pythonToolDir(tool);
  const script = join(dir, 'bin', tool.name);
  const stamp = join(dir, '.vsc-installed');
  if (existsSync(stamp) && existsSync(script)) return script;
  // Debian's python3 has venv and ensurepip in a separate package.
  ensureAptPackages([{ probe: 'python3', pkg: 'python3' }], log);
  if (!canMakeVenv()) ensureAptPackages([{ probe: () => canMakeVenv(), pkg: 'python3-venv' }], log);
  rmSync(dir, { recursive: true, force: true });
  log(`installing ${tool.name} ${tool.version} from PyPI into ${dir} (first run only)`);
  const run = (command: string, args: string[]) => {
    const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (result.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      const tail = `${result.stdout ?? ''}\n${result.stderr ?? result.error?.message ?? ''}`
        .trim()
        .split('\n')
        .slice(-8)
        .join('\n');
      throw new InfraError(InfraErrorCode.installFailed, `${[command, ...args].join(' ')} failed:\n${tail}`);
    }
  };
  run('python3', ['-m', 'venv', dir]);
  run(join(dir, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `${tool.name}==${tool.version}`]);
  if (!existsSync(script))
    throw new InfraError(InfraErrorCode.installFailed, `${tool.name} ${tool.version} installed no ${script}`);
  writeFileSync(stamp, `${tool.name}==${tool.version}\n`);
  return script;
}
