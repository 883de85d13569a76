import { defineConfig, type Options } from 'tsup';

/**
 * The build of every process (vsc, gateway, cloud worker, mini connector): workspace packages are
 * compiled in; npm dependencies stay external (native modules, dynamic requires), and so does the
 * Temporal SDK. `@vansales/workflows` stays external too unless a process compiles it in: Temporal's
 * bundler finds its source at run time by require.resolve.
 */
/**
 * Worker threads on this repository's own modules (libs/transforms/src/worker/worker-entry.ts): a
 * process that starts one builds its module as an entry of its own, beside its main, where the code
 * that starts it looks (`dist/<name>.js`). Nothing is compiled at run time. The paths are from the
 * process's package folder, where tsup runs. The transform engine's (cloud worker, agent):
 */
export const TRANSFORM_WORKER_ENTRY = { 'transform-worker': '../libs/transforms/src/worker/transform-worker.ts' };
/** The operation sandbox's worker thread (sdk-factory/src/sandbox/vm-worker.ts): a process that runs API operations. */
export const SANDBOX_WORKER_ENTRY = { 'vm-worker': '../sdk-factory/src/sandbox/vm-worker.ts' };
/** buildApi's worker thread (sdk-factory/src/build/build-worker.ts): the gateway, which registers APIs. */
export const API_BUILD_WORKER_ENTRY = { 'build-worker': '../sdk-factory/src/build/build-worker.ts' };

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
