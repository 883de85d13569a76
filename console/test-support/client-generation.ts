import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

/** The TypeScript types openapi-typescript makes of an OpenAPI file (its CLI: the package is ESM-only). */
export async function generateSchemaTypes(documentPath: string): Promise<string> {
  const cli = join(dirname(require.resolve('openapi-typescript/package.json')), 'bin/cli.js');
  const { stdout } = await promisify(execFile)(process.execPath, [cli, documentPath], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}
