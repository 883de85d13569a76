import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedDataDir } from '@vansales/test-kit';

/**
 * The worker threads of the sandbox and of buildApi as a process runs them: from built entries beside
 * its main (tsup.process.ts), with nothing compiled at run time. Each host script (fixtures/built-host)
 * is built with the processes' own tsup config from a process's package folder, and run from its dist
 * in a child process whose dependencies resolve as that process's do (its node_modules); esbuild is
 * made unresolvable there (a preload refuses it, in the worker threads too), so a worker that still
 * needed a run-time compile fails. The processes' own builds are
 * checked for the entries and for no esbuild require.
 */
const root = join(__dirname, '..', '..', '..');
const tsup = join(root, 'node_modules', '.bin', 'tsup');
const config = join(__dirname, 'fixtures', 'built-host', 'tsup.config.ts');

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'vsc-built-workers-'));
  // Refuses esbuild wherever it is asked for (the main thread and, through execArgv, every worker thread).
  writeFileSync(
    join(work, 'no-esbuild.js'),
    `const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'esbuild' || request.startsWith('esbuild/'))
    throw Object.assign(new Error('esbuild is absent from this process'), { code: 'MODULE_NOT_FOUND' });
  return resolve.call(this, request, ...rest);
};
`,
  );
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Builds one host script as process `pkg` builds its main, into a folder that resolves packages as `pkg` does. */
function buildHost(pkg: string, host: 'sandbox' | 'build'): string {
  const out = join(work, `${pkg}-${host}`);
  const built = spawnSync(tsup, ['--config', config], {
    cwd: join(root, pkg),
    env: { ...process.env, BUILT_HOST: host, BUILT_HOST_OUT_DIR: out },
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`tsup failed: ${built.stderr}${built.stdout}`);
  symlinkSync(join(root, pkg, 'node_modules'), join(out, 'node_modules'), 'dir');
  return out;
}

function runHost(out: string, args: string[], options: { noEsbuild: boolean }): unknown {
  const run = spawnSync(
    process.execPath,
    [...(options.noEsbuild ? ['--require', join(work, 'no-esbuild.js')] : []), join(out, 'main.js'), ...args],
    // From the temporary folder: nothing of the repository is found by walking up from here.
    { cwd: work, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 100_000 },
  );
  if (run.status !== 0) throw new Error(`the built host failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout.trim()) as unknown;
}

/** The built scripts' requires of esbuild (by any quoting). */
const esbuildRequires = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .filter((f) => /require\(\s*["'`]esbuild["'`/]/.test(readFileSync(join(dir, f), 'utf8')));

describe('worker threads from built entries', () => {
  it.each(['connector-agent', 'cloud-worker'])(
    '%s: runs sandboxed operations (HTTP through the host) from dist/vm-worker.js with esbuild absent',
    (pkg) => {
      const out = buildHost(pkg, 'sandbox');
      expect(
        readdirSync(out)
          .filter((f) => f.endsWith('.js'))
          .sort(),
      ).toEqual(['main.js', 'vm-worker.js']);
      expect(esbuildRequires(out)).toEqual([]);
      // The host script's folder has no vm-worker.ts: only the built entry can have started the thread.
      expect(runHost(out, [], { noEsbuild: true })).toEqual({
        warm: { status: 200, body: { echoed: 'https://api.example.com/v1/items' } },
        once: 42,
      });
    },
  );

  it('gateway: builds an API (bundles, strict compile) from dist/build-worker.js, no worker compiled at run time', () => {
    const out = buildHost('gateway', 'build');
    const spec = join(sharedDataDir() ?? '/nonexistent: set VSC_SHARED_DATA', 'openapi', 'v3.0-petstore-expanded.yaml');
    // esbuild stays resolvable here: SDK generation minifies the SDK runtime with it (the gateway lists it).
    const result = runHost(out, [spec], { noEsbuild: false }) as { operations: number; bundles: number };
    expect(result).toEqual({ operations: expect.any(Number), bundles: result.operations, typeErrors: 0 });
    expect(result.operations).toBeGreaterThan(0);
  });

  it("the processes' own builds (their tsup.config.ts) ship the entries; the agent's and cloud worker's require no esbuild", () => {
    const entries: Record<string, string[]> = {};
    for (const pkg of ['connector-agent', 'cloud-worker', 'gateway']) {
      const out = join(work, `${pkg}-process`);
      const built = spawnSync(tsup, ['--out-dir', out, '--silent'], { cwd: join(root, pkg), encoding: 'utf8' });
      if (built.status !== 0) throw new Error(`tsup failed in ${pkg}: ${built.stderr}${built.stdout}`);
      entries[pkg] = readdirSync(out)
        .filter((f) => f.endsWith('.js'))
        .sort();
      expect(esbuildRequires(out)).toEqual(pkg === 'gateway' ? ['build-worker.js'] : []);
    }
    expect(entries).toEqual({
      'connector-agent': ['main.js', 'transform-worker.js', 'vm-worker.js'],
      'cloud-worker': ['main.js', 'transform-worker.js', 'vm-worker.js'],
      gateway: ['build-worker.js', 'main.js'],
    });
  });
});
