import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { build, type Plugin } from 'esbuild';

/**
 * Starts a worker thread on one of this package's TypeScript modules (`sandbox/vm-worker.ts`,
 * `build/build-worker.ts`), wherever the host runs: from the sources (jest, tsx) or compiled into a
 * process bundle (tsup), where no per-module file exists next to the bundle.
 *
 * The entry is compiled once per process by esbuild (a dependency of the code generator already) into
 * one CommonJS script with this repository's workspace packages compiled in and every npm package left
 * as a `require` of its absolute path (resolved from the module that imports it, as Node would, so
 * pnpm's strict layout holds). Worker threads do not inherit jest's or tsx's TypeScript loaders, which
 * is why the entry is compiled rather than loaded. The script runs with `eval: true`.
 */
export interface ModuleWorkerOptions {
  /** The entry, relative to this package's `src/` (e.g. `sandbox/vm-worker.ts`). */
  entry: string;
  /** Shown in stack traces and inspector lists. */
  name: string;
  workerData?: unknown;
  resourceLimits?: ResourceLimits;
}

const compiled = new Map<string, Promise<string>>();

/** This package's `src/` folder: beside this file in the sources, else found through the package's manifest. */
function sourceRoot(): string {
  if (__filename.endsWith('.ts')) return join(__dirname, '..');
  const manifest = createRequire(__filename).resolve('@vansales/sdk-factory/package.json');
  return join(dirname(manifest), 'src');
}

/** npm packages stay outside the script, required by absolute path; workspace packages are compiled in. */
const npmExternal: Plugin = {
  name: 'npm-external',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@vansales/') || args.path.startsWith('node:')) return undefined;
      if (!args.resolveDir) return undefined;
      try {
        return { path: createRequire(join(args.resolveDir, 'importer.js')).resolve(args.path), external: true };
      } catch {
        // A Node built-in without the node: prefix (or an optional dependency that is absent): left as written.
        return { path: args.path, external: true };
      }
    });
  },
};

/**
 * A module of this repository that reads a file beside itself (`__dirname`: the generator's runtime
 * source) keeps reading it from its own folder, not from wherever the compiled script runs.
 */
const ownPaths: Plugin = {
  name: 'own-paths',
  setup(builder) {
    builder.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const source = await readFile(args.path, 'utf8');
      if (!/\b__(dirname|filename)\b/.test(source)) return undefined;
      return {
        loader: 'ts',
        contents: source
          .replace(/\b__dirname\b/g, JSON.stringify(dirname(args.path)))
          .replace(/\b__filename\b/g, JSON.stringify(args.path)),
      };
    });
  },
};

function compile(file: string): Promise<string> {
  let script = compiled.get(file);
  if (!script) {
    script = build({
      entryPoints: [file],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      plugins: [npmExternal, ownPaths],
      logLevel: 'silent',
      sourcemap: 'inline',
      sourcesContent: false,
    }).then((result) => result.outputFiles[0]!.text);
    // A failed compile is not cached: the next start tries again.
    script.catch(() => compiled.delete(file));
    compiled.set(file, script);
  }
  return script;
}

export async function startModuleWorker(options: ModuleWorkerOptions): Promise<Worker> {
  const script = await compile(join(sourceRoot(), options.entry));
  return new Worker(script, {
    eval: true,
    name: options.name,
    workerData: options.workerData,
    ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
  });
}
