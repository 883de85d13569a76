import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openapiDocument } from '@vansales/gateway';
import { generateSchemaTypes } from '../test-support/client-generation';

const root = join(__dirname, '..');
const STALE =
  'stale: run `pnpm --filter @vansales/console gen:client` and commit console/openapi.json and src/api/schema.d.ts';

describe("the console's REST client is generated from the gateway's current routes", () => {
  it('console/openapi.json is the document the gateway builds now', async () => {
    const current = await openapiDocument();
    const committed = JSON.parse(readFileSync(join(root, 'openapi.json'), 'utf8')) as unknown;
    // toEqual names the first path that differs; the message says what to run.
    try {
      expect(committed).toEqual(current);
    } catch (err) {
      throw new Error(`${STALE}\n${(err as Error).message}`);
    }
  });

  it('src/api/schema.d.ts is what openapi-typescript makes of console/openapi.json', async () => {
    const types = await generateSchemaTypes(join(root, 'openapi.json'));
    expect(readFileSync(join(root, 'src/api/schema.d.ts'), 'utf8') === types ? 'fresh' : STALE).toBe('fresh');
  });
});
