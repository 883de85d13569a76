// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import checkFile from 'eslint-plugin-check-file';
import { builtinModules, createRequire } from 'node:module';
import { dirname, resolve, sep } from 'node:path';

const { root, workspaceDirs } = createRequire(import.meta.url)('./infra/workspace.js');
// Longest first, so a file is matched to the innermost package folder.
const packageDirs = workspaceDirs()
  .map((d) => resolve(root, d))
  .sort((a, b) => b.length - a.length);
const packageDirOf = (file) => packageDirs.find((d) => file.startsWith(`${d}${sep}`));

/**
 * A relative import that leaves its own package reaches past the other package's public surface
 * (its package.json `exports`): tests and benchmarks import packages by name like everyone else.
 */
const noCrossPackageRelativeImport = {
  meta: {
    type: 'problem',
    schema: [],
    messages: {
      crossPackage: "'{{source}}' reaches into {{target}}/ by a relative path: import it by its package name instead.",
    },
  },
  create(context) {
    const own = packageDirOf(context.filename);
    if (!own) return {};
    const check = (sourceNode) => {
      const source = sourceNode?.type === 'Literal' ? sourceNode.value : undefined;
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = packageDirOf(resolve(dirname(context.filename), source));
      if (target && target !== own)
        context.report({
          node: sourceNode,
          messageId: 'crossPackage',
          data: { source, target: target.slice(root.length + 1) },
        });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      CallExpression: (node) => {
        const callee = node.callee;
        const isRequire = callee.type === 'Identifier' && callee.name === 'require';
        const isResolve =
          callee.type === 'MemberExpression' &&
          callee.object.type === 'Identifier' &&
          callee.object.name === 'require' &&
          callee.property.type === 'Identifier' &&
          callee.property.name === 'resolve';
        if (isRequire || isResolve) check(node.arguments[0]);
      },
    };
  },
};

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
// Packages that do I/O: none of them may run inside deterministic workflow code.
const ioPackages = [
  'pg',
  'mysql2',
  'mysql2/*',
  'mssql',
  'ioredis',
  'ws',
  'kysely',
  '@electric-sql/*',
  '@aws-sdk/*',
  'fastify',
  '@fastify/*',
  'pino',
  'undici',
  'axios',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  '@anthropic-ai/sdk',
];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.vsc/**',
      'coverage/**',
      // The console's Next.js build and its generated client (console/scripts/generate-client.ts).
      'console/.next/**',
      'console/next-env.d.ts',
      'console/src/api/schema.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: {
      'check-file': checkFile,
      vansales: { rules: { 'no-cross-package-relative-import': noCrossPackageRelativeImport } },
    },
    rules: {
      'vansales/no-cross-package-relative-import': 'error',
      'check-file/filename-naming-convention': [
        'error',
        { '**/*.{ts,js,mjs}': 'KEBAB_CASE' },
        { ignoreMiddleExtensions: true },
      ],
      'check-file/folder-naming-convention': ['error', { '*/src/**/': 'KEBAB_CASE', 'libs/*/src/**/': 'KEBAB_CASE' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use an `as const` object and a derived type instead of enum.' },
      ],
    },
  },
  {
    // Migrations sort by their number.
    files: ['libs/metadata/src/migrations/*.ts'],
    rules: {
      'check-file/filename-naming-convention': [
        'error',
        { '**/*.ts': '@(index|[0-9][0-9][0-9][0-9]-+([a-z0-9-]))' },
        { ignoreMiddleExtensions: true },
      ],
    },
  },
  {
    // Workflow code is replayed deterministically in Temporal's sandbox.
    files: ['workflows/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code must not use Node built-ins; do it in an activity.',
          })),
          patterns: [
            { group: ioPackages, message: 'Workflow code must not do I/O; call an activity instead.' },
            {
              group: ['@vansales/activities'],
              importNamePattern: '^(?!type )',
              allowTypeImports: true,
              message: 'Workflows import activity types only.',
            },
          ],
        },
      ],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@vansales/activities'],
              allowTypeImports: true,
              message: 'Workflows import activity types only.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use a workflow timer loop.' },
        { name: 'fetch', message: 'Call an activity.' },
        { name: 'process', message: 'No process in workflows.' },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'Math',
          property: 'random',
          message: 'Non-deterministic; Temporal replaces it, but say so with uuid4()/a seeded value.',
        },
      ],
    },
  },
  {
    files: ['**/test/**/*.ts', '**/test-support/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: {
        module: 'writable',
        exports: 'writable',
        require: 'readonly',
        process: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
