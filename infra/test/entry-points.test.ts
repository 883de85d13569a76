import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../src/paths';
import * as workspace from '../workspace';

/** Every built command-line entry of the workspace: each package.json "bin" (./vsc builds them first). */
function entries(): { name: string; file: string; version: string }[] {
  return workspace.workspacePackages().flatMap(({ dir, manifest }) =>
    Object.entries(manifest.bin ?? {}).map(([name, file]) => ({
      name,
      file: join(repoRoot, dir, file),
      version: manifest.version,
    })),
  );
}

// No configuration at all: an entry that tried to start would fail on it, not answer with exit 0.
const run = (file: string, args: string[]) =>
  spawnSync(process.execPath, [file, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 60_000 });

describe('command-line entries', () => {
  const all = entries();

  it('finds the four processes', () => {
    expect(all.map((e) => e.name).sort()).toEqual(['mini-connector', 'vsc', 'vsc-cloud-worker', 'vsc-gateway']);
  });

  it.each(all.map((e) => [e.name, e] as const))(
    '%s answers --help and --version with exit 0 and starts nothing',
    (name, entry) => {
      const help = run(entry.file, ['--help']);
      expect({ status: help.status, stderr: help.stderr }).toEqual({ status: 0, stderr: '' });
      expect(help.stdout).toMatch(/^usage: /);
      for (const flag of ['--version', '-V']) {
        const version = run(entry.file, [flag]);
        // The agent's also names its build (commit, runtime, platform: issue 13), the others their version only.
        const build =
          name === 'mini-connector'
            ? `commit: unreleased\nruntime: node ${process.version}\nplatform: ${process.platform}-${process.arch}\n`
            : '';
        expect({ status: version.status, stdout: version.stdout }).toEqual({
          status: 0,
          stdout: `${name} ${entry.version}\n${build}`,
        });
      }
    },
  );

  it.each(all.map((e) => [e.name, e] as const))(
    '%s refuses an unknown option with its usage and exit 2',
    (_name, entry) => {
      const result = run(entry.file, ['--no-such-option']);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/no-such-option[\s\S]*usage: /);
    },
  );

  it.each(['vsc-gateway', 'vsc-cloud-worker'])(
    '%s without its settings names each missing one and exits 2 before it starts anything',
    (name) => {
      const result = run(all.find((e) => e.name === name)!.file, []);
      expect({ status: result.status, stdout: result.stdout }).toEqual({ status: 2, stdout: '' });
      expect(result.stderr).toMatch(/^invalid (gateway|cloud worker) configuration:\n {2}VSC_PAYLOAD_KEYS: /);
    },
  );

  it('every sub-command of vsc and mini-connector answers --help without running', () => {
    const byName = Object.fromEntries(all.map((e) => [e.name, e.file]));
    const vscCommands = ['up', 'test', 'services', 'tenant', 'connector', 'key', 'audit', 'bench', 'release'];
    for (const command of vscCommands) {
      const result = run(byName.vsc!, [command, '--help']);
      expect({ command, status: result.status }).toEqual({ command, status: 0 });
      expect(result.stdout).toMatch(/^usage:/);
    }
    for (const command of [['run'], ['init'], ['doctor'], ['audit', 'verify'], ['sql', 'check']]) {
      const result = run(byName['mini-connector']!, [...command, '--help']);
      expect({ command, status: result.status }).toEqual({ command, status: 0 });
      expect(result.stdout.startsWith(`usage: mini-connector ${command.join(' ')}`)).toBe(true);
    }
  });

  it('the fresh-clone help of ./vsc (before any build) says what the built CLI says', () => {
    const vsc = all.find((e) => e.name === 'vsc')!;
    const fallback = join(repoRoot, 'infra', 'bin', 'vsc-help.js');
    for (const args of [
      ['--help'],
      ['--version'],
      ['up', '--help'],
      ['test', '-h'],
      ['bench', '--help'],
      ['key', '--help'],
    ]) {
      const built = run(vsc.file, args);
      const early = run(fallback, args);
      expect({ args, status: early.status, stdout: early.stdout }).toEqual({
        args,
        status: built.status,
        stdout: built.stdout,
      });
    }
  });
});

describe('.ci/run hides hand-installed tools', () => {
  it('removes pnpm, tsx and jest from PATH but keeps the programs beside them', () => {
    const script = `
      set -e
      fake=$(mktemp -d)
      for t in pnpm tsx jest; do printf '#!/bin/sh\\n' > "$fake/$t"; chmod +x "$fake/$t"; done
      ln -s "$(command -v node)" "$fake/node"
      PATH="$fake:$PATH"
      source "${join(repoRoot, 'infra', 'bin', 'hide-global-tools.sh')}"
      before=$(command -v pnpm)
      hide_global_tools
      echo "before=$before"
      echo "pnpm=$(command -v pnpm || echo none) tsx=$(command -v tsx || echo none) jest=$(command -v jest || echo none)"
      echo "node=$(command -v node)"
      hidden_tool_still_found || echo "still-found=none"
      rm -rf "$fake" "$VSC_PATH_MIRROR"`;
    const result = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/before=\/.*\/pnpm/);
    expect(result.stdout).toContain('pnpm=none tsx=none jest=none');
    expect(result.stdout).toMatch(/node=\/.*vsc-ci-path.*\/node/);
    expect(result.stdout).toContain('still-found=none');
  });
});
