import { defineConfig, type Options } from 'tsup';

/**
 * The build of every process (vsc, gateway, cloud worker, mini connector): workspace packages are
 * compiled in; npm dependencies stay external (native modules, dynamic requires), and so does the
 * Temporal SDK. `@vansales/workflows` stays external too unless a process compiles it in: Temporal's
 * bundler finds its source at run time by require.resolve.
 */
/**
 * The transform engine's worker thread (libs/transforms/src/worker): a process that runs transforms
 * (cloud worker, agent) builds it as its own entry, beside its main, where the engine looks for it.
 * The path is from the process's package folder, where tsup runs.
 */
export const TRANSFORM_WORKER_ENTRY = { 'transform-worker': '../libs/transforms/src/worker/transform-worker.ts' };

export function processBuild(entry: Record<string, string>, options: { compileWorkflows?: boolean } = {}) {
  const config: Options = {
    entry,
    format: ['cjs'],
    target: 'node20',
    platform: 'node',
    sourcemap: true,
    clean: true,
    noExternal: [/^@vansales\//],
    external: [
      /^@temporalio\//,
      '@vansales/temporal-config/failure-converter',
      ...(options.compileWorkflows ? [] : ['@vansales/workflows']),
    ],
    // A compiled-in workflow keeps its function name: Temporal reads the workflow type from it.
    ...(options.compileWorkflows ? { keepNames: true } : {}),
  };
  return defineConfig(config);
}
