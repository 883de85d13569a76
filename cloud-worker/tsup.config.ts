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
  // @vansales/workflows is found at run time by require.resolve: Temporal's bundler compiles its source.
  external: [/^@temporalio\//, '@vansales/workflows', '@vansales/temporal-config/failure-converter'],
});
