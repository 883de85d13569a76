// One jest run over every package of pnpm-workspace.yaml; workspace packages resolve to their TypeScript sources.
const { workspaceDirs, workspaceEntryPoints } = require('./infra/workspace');

const moduleNameMapper = {};
for (const { specifier, file } of workspaceEntryPoints()) moduleNameMapper[`^${specifier.replace(/[/.-]/g, '\\$&')}$`] = `<rootDir>/${file}`;

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: workspaceDirs().map((dir) => `<rootDir>/${dir}`),
  testMatch: ['**/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
    // ESM-only dependencies (cookie, via fastify's inject) compiled to CommonJS for jest's loader.
    '^.+\\.js$': ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!\\.pnpm/cookie@|cookie/)'],
  moduleNameMapper,
  // The workflow bundle is made once per run, by the package that owns the bundler.
  globalSetup: '<rootDir>/cloud-worker/test-support/jest-global-setup.ts',
  reporters: ['default', '<rootDir>/libs/test-kit/jest/summary-reporter.js'],
  testTimeout: 120_000,
  maxWorkers: 2,
  // Temporal's native connections keep handles open for a moment after close.
  forceExit: true,
};
