import { createHash } from 'node:crypto';
import { writeCanonicalJson } from '@vansales/definitions/hash';
import {
  HTTP_METHODS,
  MANIFEST_VERSION,
  operationKey,
  type JsonSchemaValue,
  type MediaTypeSchema,
  type Operation,
  type OperationManifest,
  type OperationParameter,
  type OperationResponse,
  type ParameterLocation,
  type SecurityScheme,
} from '../manifest';
import { Budget } from './budget';
import { IngestError, IngestErrorCode, ProblemCode, type SpecProblem } from './errors';
import { pointer, setOwn } from './json-pointer';
import type { Deadline, IngestLimits } from './limits';
import { recognisePagination } from './pagination';
import { SchemaConverter } from './json-schema';
import { deref } from './semantic';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Words that make a parameter's name read as a secret. */
const SECRET_WORDS = new Set([
  'token',
  'password',
  'passwd',
  'pwd',
  'secret',
  'key',
  'apikey',
  'auth',
  'authorization',
  'credential',
  'credentials',
  'signature',
  'session',
  'cookie',
]);

export interface BuildInput {
  /** The normalized OpenAPI 3.x document (validated: every reference resolves). */
  document: Obj;
  /** The uploaded document's declared version (`2.0` for a converted Swagger document). */
  sourceFormat: string;
  sourceUrl?: string;
  limits: IngestLimits;
  deadline: Deadline;
}

/** The operation manifest of a valid document: every operation, keyed, with JSON Schemas; and the document's hash. */
export function buildManifest(input: BuildInput): { manifest: OperationManifest; problems: SpecProblem[] } {
  const { document, deadline } = input;
  const budget = new Budget(input.limits.maxManifestNodes, deadline);
  const openapi31 = String(document.openapi).startsWith('3.1');
  const converter = new SchemaConverter(document, openapi31, budget);
  const problems: SpecProblem[] = [];

  const components = isObj(document.components) ? document.components : {};
  const schemas: Record<string, JsonSchemaValue> = {};
  if (isObj(components.schemas))
    for (const [name, schema] of Object.entries(components.schemas)) setOwn(schemas, name, converter.convert(schema));
  deadline.check('converting schemas');

  // A shared parameter, response, request body or header is converted once and reused; the budget is spent at every use.
  const memo = new Map<unknown, { value: unknown; nodes: number }>();
  const shared = <T>(source: unknown, make: (resolved: Obj) => T): T | undefined => {
    const resolved = deref(document, source);
    if (!isObj(resolved)) return undefined;
    const hit = memo.get(resolved);
    if (hit) {
      budget.spend(hit.nodes);
      return hit.value as T;
    }
    const before = budget.nodes;
    const value = make(resolved);
    memo.set(resolved, { value, nodes: budget.nodes - before });
    return value;
  };

  const apiKeyNames = new Set<string>();
  const securitySchemes: Record<string, SecurityScheme> = {};
  if (isObj(components.securitySchemes))
    for (const [name, raw] of Object.entries(components.securitySchemes)) {
      const scheme = securityScheme(deref(document, raw));
      if (scheme) {
        setOwn(securitySchemes, name, scheme);
        if (scheme.type === 'apiKey') apiKeyNames.add(scheme.name.toLowerCase());
      }
    }

  const parameter = (raw: unknown): OperationParameter | undefined =>
    shared(raw, (p) => {
      const location = p.in as ParameterLocation;
      const name = String(p.name);
      let schema: unknown = p.schema;
      if (schema === undefined && isObj(p.content)) {
        const media = deref(document, Object.values(p.content)[0]);
        schema = isObj(media) ? media.schema : undefined;
      }
      const converted = schema === undefined ? {} : converter.convert(schema);
      const style = str(p.style) ?? (location === 'query' || location === 'cookie' ? 'form' : 'simple');
      const sensitive =
        p['x-sensitive'] === true ||
        isPassword(deref(document, schema)) ||
        apiKeyNames.has(name.toLowerCase()) ||
        (readsAsSecret(name) && !isNotText(deref(document, schema)));
      const out: OperationParameter = {
        name,
        in: location,
        required: location === 'path' ? true : p.required === true,
        schema: converted,
        sensitive,
        style,
        // OpenAPI's default: explode for the form style only.
        explode: typeof p.explode === 'boolean' ? p.explode : style === 'form',
      };
      if (str(p.description) !== undefined) out.description = str(p.description);
      if (p.deprecated === true) out.deprecated = true;
      budget.spend(8);
      return out;
    });

  const content = (raw: unknown): MediaTypeSchema[] =>
    isObj(raw)
      ? Object.entries(raw).map(([contentType, media]) => {
          const m = deref(document, media);
          const schema = isObj(m) && m.schema !== undefined ? converter.convert(m.schema) : {};
          budget.spend(2);
          return { contentType, schema };
        })
      : [];

  const response = (status: string, raw: unknown): OperationResponse | undefined =>
    shared(raw, (r) => {
      const out: OperationResponse = { status, content: content(r.content) };
      if (str(r.description) !== undefined) out.description = str(r.description);
      if (isObj(r.headers)) {
        const headers: Record<string, JsonSchemaValue> = {};
        for (const [name, rawHeader] of Object.entries(r.headers)) {
          if (name.toLowerCase() === 'content-type') continue;
          const header = deref(document, rawHeader);
          if (!isObj(header)) continue;
          let schema: unknown = header.schema;
          if (schema === undefined && isObj(header.content))
            schema = (deref(document, Object.values(header.content)[0]) as Obj | undefined)?.schema;
          setOwn(headers, name, schema === undefined ? {} : converter.convert(schema));
        }
        if (Object.keys(headers).length > 0) out.headers = headers;
      }
      budget.spend(4);
      return out;
    });

  const documentServers = servers(document.servers, input.sourceUrl) ?? [{ url: resolveServer('/', input.sourceUrl) }];
  const operations: Operation[] = [];
  const keys = new Map<string, string>();
  const paths = isObj(document.paths) ? document.paths : {};
  for (const [path, rawItem] of Object.entries(paths)) {
    const item = deref(document, rawItem);
    if (!isObj(item)) continue;
    const pathParameters = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!isObj(op)) continue;
      const at = pointer('paths', path, method);
      const merged = new Map<string, OperationParameter>();
      for (const raw of [...pathParameters, ...(Array.isArray(op.parameters) ? op.parameters : [])]) {
        const p = parameter(raw);
        if (p) merged.set(`${p.in}:${p.name}`, p);
      }
      const operationId = str(op.operationId);
      const key = operationKey(method, path, operationId);
      const clash = keys.get(key);
      if (clash !== undefined) {
        problems.push({
          severity: 'error',
          code: ProblemCode.duplicateOperationKey,
          pointer: at,
          message: `this operation's key \`${key}\` is also the key of ${clash}: give it another operationId`,
        });
        continue;
      }
      keys.set(key, at);
      const responses: OperationResponse[] = [];
      if (isObj(op.responses))
        for (const [status, raw] of Object.entries(op.responses)) {
          if (status.startsWith('x-')) continue;
          const r = response(/^[1-5]xx$/i.test(status) ? status.toUpperCase() : status, raw);
          if (r) responses.push(r.status === status || r.status === status.toUpperCase() ? r : { ...r, status });
        }
      const operation: Omit<Operation, 'pagination'> & { pagination?: Operation['pagination'] } = {
        key,
        method,
        path,
        tags: Array.isArray(op.tags) ? op.tags.filter((t): t is string => typeof t === 'string') : [],
        deprecated: op.deprecated === true,
        parameters: [...merged.values()],
        responses,
        security: (Array.isArray(op.security)
          ? op.security
          : Array.isArray(document.security)
            ? document.security
            : []) as Operation['security'],
      };
      if (operationId !== undefined) operation.operationId = operationId;
      if (str(op.summary) !== undefined) operation.summary = str(op.summary);
      if (str(op.description) !== undefined) operation.description = str(op.description);
      const body = deref(document, op.requestBody);
      if (isObj(body))
        operation.requestBody = {
          required: body.required === true,
          content: content(body.content),
          ...(str(body.description) !== undefined ? { description: str(body.description) } : {}),
        };
      const opServers = servers(op.servers, input.sourceUrl) ?? servers(item.servers, input.sourceUrl);
      if (opServers) operation.servers = opServers;
      operations.push(operation as Operation);
      budget.spend(16);
    }
    deadline.check('building operations');
  }
  converter.drain();
  for (const [name, schema] of converter.extra) setOwn(schemas, name, schema);
  for (const operation of operations) {
    const op = (deref(document, (paths as Obj)[operation.path]) as Obj)[operation.method] as Obj;
    const pagination = recognisePagination(operation, op['x-pagination'], schemas);
    if (pagination) operation.pagination = pagination;
  }
  if (problems.some((p) => p.severity === 'error'))
    throw new IngestError(IngestErrorCode.invalid, `the specification has ${problems.length} problem(s)`, { problems });

  const info = isObj(document.info) ? document.info : {};
  const manifest: OperationManifest = {
    manifestVersion: MANIFEST_VERSION,
    sourceFormat: input.sourceFormat,
    title: str(info.title) ?? '',
    apiVersion: str(info.version) ?? '',
    servers: documentServers,
    securitySchemes,
    schemas,
    operations,
    specHash: specHash(document),
  };
  if (str(info.description) !== undefined) manifest.description = str(info.description);
  return { manifest, problems };
}

/**
 * sha256 (hex) over the canonical JSON (RFC 8785) of the normalized document, fed to the hash in
 * 64 KiB pieces: holding GitHub's whole canonical text and its parts at once cost about 50 MB of peak RSS.
 */
export function specHash(document: unknown): string {
  const hash = createHash('sha256');
  let pending = '';
  writeCanonicalJson(document, (part) => {
    pending += part;
    if (pending.length >= 65_536) {
      hash.update(pending, 'utf8');
      pending = '';
    }
  });
  return hash.update(pending, 'utf8').digest('hex');
}

function servers(raw: unknown, sourceUrl: string | undefined): { url: string; description?: string }[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) return undefined;
  return raw.filter(isObj).map((s) => ({
    url: resolveServer(String(s.url ?? '/'), sourceUrl),
    ...(str(s.description) !== undefined ? { description: str(s.description) } : {}),
  }));
}

/** A relative server URL is relative to where the document was served (OpenAPI 3.x, Server Object). */
function resolveServer(url: string, sourceUrl: string | undefined): string {
  if (!sourceUrl || /^[a-z][a-z0-9+.-]*:/i.test(url) || url.includes('{')) return url;
  try {
    return new URL(url, sourceUrl).toString();
  } catch {
    return url;
  }
}

function securityScheme(raw: unknown): SecurityScheme | undefined {
  if (!isObj(raw)) return undefined;
  switch (raw.type) {
    case 'apiKey':
      return { type: 'apiKey', in: raw.in as 'header' | 'query' | 'cookie', name: String(raw.name) };
    case 'http':
      return {
        type: 'http',
        scheme: String(raw.scheme).toLowerCase(),
        ...(str(raw.bearerFormat) !== undefined ? { bearerFormat: str(raw.bearerFormat) } : {}),
      };
    case 'oauth2': {
      const flows: Obj = {};
      if (isObj(raw.flows))
        for (const [name, flow] of Object.entries(raw.flows))
          if (['clientCredentials', 'authorizationCode', 'password', 'implicit'].includes(name) && isObj(flow)) {
            const out: Obj = { scopes: isObj(flow.scopes) ? flow.scopes : {} };
            for (const url of ['authorizationUrl', 'tokenUrl', 'refreshUrl'])
              if (typeof flow[url] === 'string') out[url] = flow[url];
            flows[name] = out;
          }
      return { type: 'oauth2', flows } as SecurityScheme;
    }
    case 'openIdConnect':
      return { type: 'openIdConnect', openIdConnectUrl: String(raw.openIdConnectUrl) };
    case 'mutualTLS':
      return { type: 'mutualTLS' };
    default:
      return undefined;
  }
}

function isPassword(schema: unknown): boolean {
  return isObj(schema) && (schema.format === 'password' || schema['x-sensitive'] === true);
}

/** A boolean or a number is never a secret, whatever its name (`hide_secret`, `key_count`). */
function isNotText(schema: unknown): boolean {
  return isObj(schema) && ['boolean', 'integer', 'number'].includes(String(schema.type));
}

/** Last words that make a name the identifier of a secret rather than the secret (`key_id`, `secret_name`). */
const NAMING_WORDS = new Set(['id', 'ids', 'name', 'names', 'type', 'types', 'count', 'at', 'url', 'prefix']);

/**
 * `X-Api-Key`, `access_token`, `clientSecret` read as secrets (whole words, camelCase split);
 * `keyword`, `key_id` or `secret_type` do not. Conservative the other way too: a false positive
 * only keeps a value out of the audit.
 */
export function readsAsSecret(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  if (words.length > 1 && NAMING_WORDS.has(words[words.length - 1]!)) return false;
  return words.some((w) => SECRET_WORDS.has(w)) || /api_?key|access_?token/i.test(name);
}
