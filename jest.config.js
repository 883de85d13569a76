// One jest run over every package; workspace packages resolve to their TypeScript sources.
const pkgs = ['infra', 'temporal-config', 'libs/protocol', 'libs/metadata', 'gateway', 'connector-agent', 'workflows', 'activities', 'cloud-worker', 'libs/buffer', 'libs/dataflow', 'libs/test-kit', 'e2e'];
const moduleNameMapper = {
  '^@vansales/protocol/(task-queues|agent-errors|schema-snapshot)$': '<rootDir>/libs/protocol/src/$1.ts',
  '^@vansales/activities/cloud$': '<rootDir>/activities/src/cloud.ts',
};
for (const p of pkgs) moduleNameMapper[`^@vansales/${p.replace('libs/', '')}$`] = `<rootDir>/${p}/src/index.ts`;

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: pkgs.map((p) => `<rootDir>/${p}`),
  testMatch: ['**/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
    // ESM-only dependencies (cookie, via fastify's inject) compiled to CommonJS for jest's loader.
    '^.+\\.js$': ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!\\.pnpm/cookie@|cookie/)'],
  moduleNameMapper,
  globalSetup: '<rootDir>/libs/test-kit/jest/global-setup.ts',
  reporters: ['default', '<rootDir>/libs/test-kit/jest/summary-reporter.js'],
  testTimeout: 120_000,
  maxWorkers: 2,
  // Temporal's native connections keep handles open for a moment after close.
  forceExit: true,
};
