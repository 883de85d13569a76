import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The one way this repository starts a worker thread on one of its own TypeScript modules (the
 * transform engine's, the operation sandbox's, the API build's). A process bundle builds each such
 * module as an entry of its own beside its main (`dist/<name>.js`, see tsup.process.ts), where the
 * code that starts it (compiled into the same bundle) finds it by `__dirname`; from the sources (jest,
 * the benchmarks, `node --import tsx`) the module runs through tsx's require hook, since a worker
 * thread inherits no TypeScript loader. Nothing is compiled at run time: a process needs no bundler,
 * and a single executable can carry the built entries as they are.
 */
export interface WorkerEntry {
  /** The built script's path, or (from the sources) code that loads the module through tsx. */
  script: string;
  /** Whether `script` is code (`new Worker(script, { eval: true })`) rather than a file. */
  eval: boolean;
}

/**
 * The entry `name` of a module in `dir` (the caller's `__dirname`): `dir/<name>.js` when a process
 * bundle built it there, else `dir/<name>.ts` through tsx (found from `dir` up, as the repository's
 * root has it).
 */
export function resolveWorkerEntry(dir: string, name: string): WorkerEntry {
  const built = join(dir, `${name}.js`);
  if (existsSync(built)) return { script: built, eval: false };
  const source = join(dir, `${name}.ts`);
  if (!existsSync(source))
    throw new Error(`the worker entry ${name} is neither built (${built}) nor a source file (${source})`);
  const paths = JSON.stringify([dir]);
  return {
    script: `require(require.resolve('tsx/cjs', { paths: ${paths} })); require(${JSON.stringify(source)});`,
    eval: true,
  };
}

/** A worker thread on the entry `name` in `dir` (see resolveWorkerEntry). */
export function startWorkerEntry(dir: string, name: string, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const entry = resolveWorkerEntry(dir, name);
  return new Worker(entry.script, { ...options, eval: entry.eval });
}
