import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { OperationManifest } from '../../../src/manifest';
import { ingestSpec } from '../../../src/ingest';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A real OpenAPI 3 document of ../shared/data/openapi, parsed. */
export function sharedSpec(name: string, sharedData: string | undefined): Doc {
  if (!sharedData) throw new Error('shared/data not found beside the clone (VSC_SHARED_DATA)');
  return parse(readFileSync(join(sharedData, 'openapi', name), 'utf8')) as Doc;
}

/** The manifest of a 3.x document, as registration makes it: ingestSpec's (its specHash is the document's). */
export async function manifestOf(doc: Doc): Promise<OperationManifest> {
  return (await ingestSpec({ text: JSON.stringify(doc) })).manifest;
}

/** Edits of the petstore (expanded) document, one change each. */
export const petstoreEdits = {
  /** DELETE /pets/{id} (deletePet) removed. */
  endpointRemoved(doc: Doc): Doc {
    const out = structuredClone(doc);
    delete out.paths['/pets/{id}'].delete;
    return out;
  },
  /** findPets' optional `limit` made required. */
  parameterRequired(doc: Doc): Doc {
    const out = structuredClone(doc);
    out.paths['/pets'].get.parameters.find((p: Doc) => p.name === 'limit').required = true;
    return out;
  },
  /** findPets gains an optional `offset`: not breaking. */
  optionalParameterAdded(doc: Doc): Doc {
    const out = structuredClone(doc);
    out.paths['/pets'].get.parameters.push({
      name: 'offset',
      in: 'query',
      required: false,
      schema: { type: 'integer' },
    });
    return out;
  },
  /**
   * `find pet by id` answers its own object schema (so an edit touches that one operation, not every
   * operation that references Pet).
   */
  ownResponseSchema(doc: Doc): Doc {
    const out = structuredClone(doc);
    out.paths['/pets/{id}'].get.responses['200'].content['application/json'].schema = {
      type: 'object',
      required: ['id', 'name'],
      properties: { id: { type: 'integer', format: 'int64' }, name: { type: 'string' }, tag: { type: 'string' } },
    };
    return out;
  },
  /** From ownResponseSchema: a response property removed (`name`, required; or `tag`, optional). */
  responsePropertyRemoved(doc: Doc, property: 'name' | 'tag'): Doc {
    const out = structuredClone(doc);
    const schema = out.paths['/pets/{id}'].get.responses['200'].content['application/json'].schema;
    delete schema.properties[property];
    schema.required = (schema.required as string[]).filter((r) => r !== property);
    return out;
  },
};
