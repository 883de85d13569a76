import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { HTTP_METHODS, operationKey, type OperationManifest } from '../../../src/manifest';
import { specHash } from '../../../src/ingest';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A real OpenAPI 3 document of ../shared/data/openapi, parsed. */
export function sharedSpec(name: string, sharedData: string | undefined): Doc {
  if (!sharedData) throw new Error('shared/data not found beside the clone (VSC_SHARED_DATA)');
  return parse(readFileSync(join(sharedData, 'openapi', name), 'utf8')) as Doc;
}

/**
 * A minimal manifest of a 3.x document: what the ingest part makes in full (parameters resolved,
 * schemas rewritten). The registry reads only keys, methods, paths and the spec hash, so a stand-in
 * is enough here until ingestSpec lands on main.
 */
export function manifestOf(doc: Doc): OperationManifest {
  const operations: OperationManifest['operations'] = [];
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Doc>)) {
    for (const method of HTTP_METHODS) {
      const op = item[method] as Doc | undefined;
      if (!op) continue;
      operations.push({
        key: operationKey(method, path, op.operationId as string | undefined),
        ...(op.operationId ? { operationId: op.operationId as string } : {}),
        method,
        path,
        tags: (op.tags as string[] | undefined) ?? [],
        deprecated: !!op.deprecated,
        parameters: ((op.parameters ?? []) as Doc[]).map((p) => ({
          name: p.name as string,
          in: p.in as 'query',
          required: !!p.required,
          schema: (p.schema as Doc | undefined) ?? {},
          sensitive: false,
        })),
        responses: Object.keys((op.responses ?? {}) as Doc).map((status) => ({ status, content: [] })),
        security: [],
      });
    }
  }
  return {
    manifestVersion: 1,
    sourceFormat: String(doc.openapi),
    title: String(doc.info?.title ?? 'API'),
    apiVersion: String(doc.info?.version ?? '0'),
    servers: [],
    securitySchemes: {},
    schemas: {},
    operations,
    specHash: specHash(doc),
  };
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
