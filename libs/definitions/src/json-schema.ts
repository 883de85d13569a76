import { z } from 'zod';
import { DefinitionDocument } from './model';

/**
 * The JSON Schema of a definition document, for editors (`$schema`) and the console's designer.
 * It describes what a caller may send (zod's input side: fields with defaults are optional).
 * Rules across fields (exactly one of db and http, the graph) are validateDefinition's, not here.
 * The committed copy (definition.schema.json) is checked against this by a unit test.
 */
export function definitionJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(DefinitionDocument, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://vansales.dev/schemas/definition.schema.json',
    title: 'Vansales Connect integration definition (vansales.definition/v1)',
  };
}

/** The committed file's text: generated, do not edit (`pnpm --filter @vansales/definitions generate`). */
export function definitionJsonSchemaFile(): string {
  const schema = definitionJsonSchema();
  return `${JSON.stringify(
    {
      $comment:
        'Generated from libs/definitions/src/model.ts, do not edit: pnpm --filter @vansales/definitions generate',
      ...schema,
    },
    null,
    2,
  )}\n`;
}
