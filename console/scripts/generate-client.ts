// Regenerates the console's REST client from the gateway's routes: `pnpm --filter @vansales/console gen:client`.
// The document comes from the gateway's own route table (no running gateway, no service), so it is
// committed with the types; console/test/client-fresh.test.ts fails when either is stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openapiDocument } from '@vansales/gateway';
import { generateSchemaTypes } from '../test-support/client-generation';

async function main(): Promise<void> {
  const root = join(__dirname, '..');
  const doc = await openapiDocument();
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  writeFileSync(join(root, 'openapi.json'), text);
  writeFileSync(join(root, 'src/api/schema.d.ts'), await generateSchemaTypes(join(root, 'openapi.json')));
  process.stdout.write(
    `wrote console/openapi.json (${Object.keys(doc.paths as object).length} paths) and src/api/schema.d.ts\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
