// Per-operation bundles: each operation's module and the runtime as one minified ES2020 script with no
// imports and no Node built-ins, which the QuickJS sandbox evaluates as is. One esbuild run with an entry
// per operation (esbuild builds them in parallel); the SDK's files never touch the disk.
import { build, type Plugin } from 'esbuild';
import { posix } from 'node:path';
import { stringLiteral } from './emit-text';
import type { GeneratedOperation, GeneratedSources } from './generate-sdk';

/**
 * The global a bundle defines: `var vscOperation = { key, call(host, input, options), pages?(…) }`,
 * where `host` is the runtime's ClientOptions (the host's transport, and timers when the sandbox has
 * no global ones).
 */
export const BUNDLE_GLOBAL = 'vscOperation';

const ENTRY_DIR = '/$entry/';

function entrySource(operation: GeneratedOperation): string {
  const module = `../${operation.file.replace(/\.ts$/, '')}`;
  const imported = [operation.functionName, operation.pagesName].filter((name) => name !== undefined).join(', ');
  const lines = [
    `import { createClient } from '../runtime';\n`,
    `import { ${imported} } from ${stringLiteral(module)};\n`,
    `export const key = ${stringLiteral(operation.key)};\n`,
    `export function call(host, input, options) { return ${operation.functionName}(createClient(host), input, options); }\n`,
  ];
  if (operation.pagesName !== undefined)
    lines.push(
      `export function pages(host, input, options) { return ${operation.pagesName}(createClient(host), input, options); }\n`,
    );
  return lines.join('');
}

export interface OperationBundle {
  readonly key: string;
  readonly bundle: string;
}

export async function bundleOperations(sources: GeneratedSources): Promise<OperationBundle[]> {
  if (sources.operations.length === 0) return [];
  const files = new Map(Object.entries(sources.files).map(([path, source]) => [`/${path}`, source]));
  for (const operation of sources.operations)
    files.set(`${ENTRY_DIR}${operation.functionName}.ts`, entrySource(operation));
  const memory: Plugin = {
    name: 'sdk-memory',
    setup(builder) {
      builder.onResolve({ filter: /.*/ }, (args) => {
        const path = args.kind === 'entry-point' ? args.path : posix.join(posix.dirname(args.importer), args.path);
        const file = files.has(path) ? path : `${path}.ts`;
        if (!files.has(file)) return { errors: [{ text: `the generated SDK has no module ${path}` }] };
        return { path: file, namespace: 'sdk' };
      });
      builder.onLoad({ filter: /.*/, namespace: 'sdk' }, (args) => ({ contents: files.get(args.path), loader: 'ts' }));
    },
  };
  const result = await build({
    entryPoints: sources.operations.map((operation) => `${ENTRY_DIR}${operation.functionName}.ts`),
    bundle: true,
    write: false,
    outdir: '/out',
    format: 'iife',
    globalName: BUNDLE_GLOBAL,
    platform: 'neutral',
    target: 'es2020',
    minify: true,
    legalComments: 'none',
    charset: 'ascii',
    logLevel: 'silent',
    plugins: [memory],
  });
  const byName = new Map(result.outputFiles.map((output) => [posix.basename(output.path, '.js'), output.text]));
  return sources.operations.map((operation) => {
    const bundle = byName.get(operation.functionName);
    if (bundle === undefined) throw new Error(`esbuild produced no bundle for ${operation.key}`);
    return { key: operation.key, bundle };
  });
}
