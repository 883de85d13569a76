import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { definitionJsonSchemaFile } from '../src/json-schema';

// Writes definition.schema.json; test/json-schema.test.ts fails when the committed one is stale.
writeFileSync(join(__dirname, '..', 'definition.schema.json'), definitionJsonSchemaFile());
