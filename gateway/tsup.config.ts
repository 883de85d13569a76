import { defineConfig } from 'tsup';

// Workspace packages are compiled in; npm dependencies stay external (native modules, dynamic requires).
export default defineConfig({
  entry: { main: 'src/main.ts' },
  format: ['cjs'],
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  clean: true,
  noExternal: [/^@vansales\//],
  // The gateway starts workflows, queries and signals them through their definitions (@vansales/workflows
  // compiled in): Temporal reads a workflow's type from its function name, which must survive the build.
  keepNames: true,
  external: [/^@temporalio\//, '@vansales/temporal-config/failure-converter'],
});
