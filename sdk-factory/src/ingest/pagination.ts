import type { JsonSchemaValue, Operation, OperationParameter, Pagination } from '../manifest';
import { escapeToken, refTokens } from './json-pointer';

/**
 * Pagination, recognised conservatively: a wrong guess makes an SDK loop or stop early, a missing
 * one only makes the caller page by hand. Rules, first match wins, GET operations only:
 *
 * 1. Declared: an `x-pagination` extension on the operation in the manifest's own shape
 *    (`{ kind: cursor, param, next }`, `{ kind: offset, offsetParam }`, ...), taken when it names
 *    parameters the operation has.
 * 2. `link-header`: a 2xx response declares a `Link` header (RFC 8288, GitHub's style).
 * 3. `cursor`: a query parameter named cursor / after / page_token / pageToken / next_token /
 *    nextToken / starting_after / continuation_token / next, AND the 2xx JSON body has a property
 *    that reads as the next cursor (next_cursor, nextCursor, next_page_token, nextPageToken,
 *    next_token, nextToken, cursor, next), directly or under `meta` / `pagination` / `page_info` /
 *    `response_metadata`. Without that property it is not recognised.
 * 4. `offset`: a query parameter named offset or skip of integer type.
 * 5. `page`: a query parameter named page or page_number / pageNumber of integer type.
 * For 3-5, `items` is the pointer to the one array property of the body named items / data /
 * results / records / entries / values / list (when the body is an array, items is left out), and
 * the size parameter (limit / per_page / page_size / pageSize / size / count / max_results) is taken
 * when present.
 */
export function recognisePagination(
  operation: Omit<Operation, 'pagination'>,
  declared: unknown,
  schemas: Record<string, JsonSchemaValue>,
): Pagination | undefined {
  if (operation.method !== 'get') return undefined;
  const query = operation.parameters.filter((p) => p.in === 'query');
  const byName = (names: readonly string[], integer = false) =>
    query.find((p) => names.includes(p.name) && (!integer || isIntegerish(p, schemas)));

  const fromExtension = declaredPagination(declared, query);
  if (fromExtension) return fromExtension;

  const ok = operation.responses.filter((r) => /^2/.test(r.status));
  if (ok.some((r) => Object.keys(r.headers ?? {}).some((h) => h.toLowerCase() === 'link')))
    return { kind: 'link-header' };

  const body = ok.flatMap((r) => r.content).find((c) => /json/i.test(c.contentType))?.schema;
  const bodySchema = body === undefined ? undefined : follow(body, schemas);
  const items = bodySchema ? itemsPointer(bodySchema, schemas) : undefined;
  const size = byName(['limit', 'per_page', 'page_size', 'pageSize', 'size', 'count', 'max_results', 'maxResults']);

  const cursor = byName([
    'cursor',
    'after',
    'page_token',
    'pageToken',
    'next_token',
    'nextToken',
    'starting_after',
    'continuation_token',
    'next',
  ]);
  if (cursor && bodySchema) {
    const next = nextCursorPointer(bodySchema, schemas);
    if (next) return { kind: 'cursor', param: cursor.name, next, ...(items ? { items } : {}) };
  }
  const offset = byName(['offset', 'skip'], true);
  if (offset)
    return {
      kind: 'offset',
      offsetParam: offset.name,
      ...(size ? { limitParam: size.name } : {}),
      ...(items ? { items } : {}),
    };
  const page = byName(['page', 'page_number', 'pageNumber'], true);
  if (page)
    return {
      kind: 'page',
      pageParam: page.name,
      ...(size ? { sizeParam: size.name } : {}),
      ...(items ? { items } : {}),
    };
  return undefined;
}

function declaredPagination(declared: unknown, query: OperationParameter[]): Pagination | undefined {
  if (declared === null || typeof declared !== 'object') return undefined;
  const d = declared as Record<string, unknown>;
  const has = (name: unknown) => typeof name === 'string' && query.some((p) => p.name === name);
  const items = typeof d.items === 'string' && d.items.startsWith('/') ? { items: d.items } : {};
  if (d.kind === 'cursor' && has(d.param) && typeof d.next === 'string' && d.next.startsWith('/'))
    return { kind: 'cursor', param: d.param as string, next: d.next, ...items };
  if (d.kind === 'offset' && has(d.offsetParam))
    return {
      kind: 'offset',
      offsetParam: d.offsetParam as string,
      ...(has(d.limitParam) ? { limitParam: d.limitParam as string } : {}),
      ...items,
    };
  if (d.kind === 'page' && has(d.pageParam))
    return {
      kind: 'page',
      pageParam: d.pageParam as string,
      ...(has(d.sizeParam) ? { sizeParam: d.sizeParam as string } : {}),
      ...items,
    };
  if (d.kind === 'link-header') return { kind: 'link-header', ...items };
  return undefined;
}

type Obj = Record<string, unknown>;

/** The schema a manifest `$ref` names (a few hops at most), or the schema itself. */
function follow(schema: JsonSchemaValue, schemas: Record<string, JsonSchemaValue>): Obj | undefined {
  let node: unknown = schema;
  for (let hops = 0; hops < 8; hops++) {
    if (node === null || typeof node !== 'object') return undefined;
    const ref = (node as Obj).$ref;
    if (typeof ref !== 'string') {
      const allOf = (node as Obj).allOf;
      // `allOf: [one]` is how 3.0 documents annotate a reference: look through it.
      if (Array.isArray(allOf) && allOf.length === 1 && !('properties' in (node as Obj))) {
        node = allOf[0];
        continue;
      }
      return node as Obj;
    }
    const tokens = refTokens(ref);
    if (!tokens || tokens.length !== 2 || tokens[0] !== 'schemas') return undefined;
    node = Object.prototype.hasOwnProperty.call(schemas, tokens[1]!) ? schemas[tokens[1]!] : undefined;
  }
  return undefined;
}

function isIntegerish(p: OperationParameter, schemas: Record<string, JsonSchemaValue>): boolean {
  const s = follow(p.schema, schemas);
  const type = s?.type;
  return (
    type === 'integer' ||
    type === 'number' ||
    (Array.isArray(type) && (type.includes('integer') || type.includes('number')))
  );
}

function properties(schema: Obj, schemas: Record<string, JsonSchemaValue>): [string, Obj][] {
  const props = schema.properties;
  if (props === null || typeof props !== 'object') return [];
  return Object.entries(props as Obj).flatMap(([name, s]) => {
    const resolved = follow(s as JsonSchemaValue, schemas);
    return resolved ? [[name, resolved] as [string, Obj]] : [];
  });
}

const ITEM_NAMES = ['items', 'data', 'results', 'records', 'entries', 'values', 'list'];
function itemsPointer(body: Obj, schemas: Record<string, JsonSchemaValue>): string | undefined {
  const arrays = properties(body, schemas).filter(
    ([name, s]) =>
      ITEM_NAMES.includes(name) && (s.type === 'array' || (Array.isArray(s.type) && s.type.includes('array'))),
  );
  return arrays.length === 1 ? `/${escapeToken(arrays[0]![0])}` : undefined;
}

const NEXT_NAMES = [
  'next_cursor',
  'nextCursor',
  'next_page_token',
  'nextPageToken',
  'next_token',
  'nextToken',
  'cursor',
  'next',
];
const NEXT_HOLDERS = ['meta', 'pagination', 'page_info', 'pageInfo', 'response_metadata', 'paging'];
function nextCursorPointer(body: Obj, schemas: Record<string, JsonSchemaValue>): string | undefined {
  const direct = properties(body, schemas).find(([name, s]) => NEXT_NAMES.includes(name) && isStringish(s));
  if (direct) return `/${escapeToken(direct[0])}`;
  for (const [holder, s] of properties(body, schemas)) {
    if (!NEXT_HOLDERS.includes(holder)) continue;
    const inner = properties(s, schemas).find(([name, t]) => NEXT_NAMES.includes(name) && isStringish(t));
    if (inner) return `/${escapeToken(holder)}/${escapeToken(inner[0])}`;
  }
  return undefined;
}

function isStringish(s: Obj): boolean {
  return s.type === 'string' || (Array.isArray(s.type) && s.type.includes('string'));
}
