// One jest run over every package of pnpm-workspace.yaml, in four tiers (jest projects) that can run
// by name (`./vsc test unit`, `… integration`, `… e2e`, `… soak`). A test file's tier is its suffix:
//   *.test.ts        unit: no service, no other process; runs without `./vsc` starting anything
//   *.int.test.ts    integration: real services (Temporal, PostgreSQL, MariaDB, Redis, MinIO)
//   *.e2e.test.ts    end to end: the platform's processes together (gateway, agent, cloud worker)
//   *.soak.test.ts   soak: long runs with faults (1M rows, processes killed mid-sync)
const { workspaceDirs, workspaceEntryPoints } = require('./infra/workspace');

const moduleNameMapper = {};
for (const { specifier, file } of workspaceEntryPoints())
  moduleNameMapper[`^${specifier.replace(/[/.-]/g, '\\$&')}$`] = `<rootDir>/${file}`;

const shared = {
  testEnvironment: 'node',
  roots: workspaceDirs().map((dir) => `<rootDir>/${dir}`),
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
    // ESM-only dependencies (cookie, via fastify's inject) compiled to CommonJS for jest's loader.
    '^.+\\.js$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!\\.pnpm/cookie@|cookie/)'],
  moduleNameMapper,
  // The console's Next.js build output (a standalone copy of its package.json, chunks) is no test source.
  modulePathIgnorePatterns: ['<rootDir>/console/.next/'],
};
// The workflow bundle is made once per run, by the package that owns the bundler, and only for the
// tiers whose Workers run workflows: jest runs a project's global setup only when one of its tests runs.
const workflowBundle = '<rootDir>/cloud-worker/test-support/jest-global-setup.ts';

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['**/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.(int|e2e|soak)\\.test\\.ts$'],
    },
    { ...shared, displayName: 'integration', testMatch: ['**/test/**/*.int.test.ts'], globalSetup: workflowBundle },
    { ...shared, displayName: 'e2e', testMatch: ['**/test/**/*.e2e.test.ts'], globalSetup: workflowBundle },
    { ...shared, displayName: 'soak', testMatch: ['**/test/**/*.soak.test.ts'], globalSetup: workflowBundle },
  ],
  reporters: ['default', '<rootDir>/libs/test-kit/jest/summary-reporter.js'],
  testTimeout: 120_000,
  maxWorkers: 2,
  // Temporal's native connections keep handles open for a moment after close.
  forceExit: true,
};
