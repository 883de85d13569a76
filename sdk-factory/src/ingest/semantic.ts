import { HTTP_METHODS } from '../manifest';
import { ProblemCode, type SpecProblem } from './errors';
import { childPointer, pointer, refTokens, resolveTokens } from './json-pointer';
import type { Deadline } from './limits';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Keys whose values are data, not specification: a `$ref` inside an example is not a reference. */
const DATA_KEYS = new Set(['example', 'examples', 'enum', 'default', 'const']);
/** What the reference walk gives as the parent key of an `examples` map's entry: no key of a document can be it. */
const EXAMPLE_OBJECT = Symbol('example object');

/**
 * What the official schema cannot say about an OpenAPI 3.x document (normalized: a Swagger 2.0
 * upload is checked after conversion): references that do not resolve or leave the document,
 * duplicate operationIds, path parameters not declared or not used, unknown security schemes,
 * operations without responses. Every problem is named by pointer; nothing stops at the first.
 */
export function semanticProblems(document: Obj, deadline: Deadline): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const openapi31 = String(document.openapi).startsWith('3.1');
  const add = (severity: SpecProblem['severity'], code: SpecProblem['code'], at: string, message: string) =>
    problems.push({ severity, code, pointer: at, message });

  problems.push(...referenceProblems(document));
  deadline.check('checking references');

  const schemes =
    isObj(document.components) && isObj(document.components.securitySchemes) ? document.components.securitySchemes : {};
  const checkSecurity = (security: unknown, at: string) => {
    if (!Array.isArray(security)) return;
    security.forEach((requirement, i) => {
      if (!isObj(requirement)) return;
      for (const name of Object.keys(requirement))
        if (!Object.prototype.hasOwnProperty.call(schemes, name))
          add(
            'error',
            ProblemCode.unknownSecurityScheme,
            childPointer(at, i, name),
            `security scheme \`${name}\` is not declared: add it under /components/securitySchemes or correct the name${
              Object.keys(schemes).length ? ` (declared: ${Object.keys(schemes).join(', ')})` : ''
            }`,
          );
    });
  };
  checkSecurity(document.security, '/security');

  const paths = isObj(document.paths) ? document.paths : {};
  const operationIds = new Map<string, string>();
  const templates = new Map<string, string>();
  let operations = 0;
  for (const [path, rawItem] of Object.entries(paths)) {
    const itemAt = pointer('paths', path);
    const item = deref(document, rawItem);
    if (!isObj(item)) continue;
    const shape = path.replace(/\{[^}]*\}/g, '{}');
    const twin = templates.get(shape);
    if (twin !== undefined)
      add(
        'warning',
        ProblemCode.ambiguousPath,
        itemAt,
        `\`${path}\` differs from \`${twin}\` only in parameter names: a request cannot tell them apart; merge them`,
      );
    else templates.set(shape, path);
    const templateNames = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    const pathLevel = parameterList(document, item.parameters, childPointer(itemAt, 'parameters'), add);
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!isObj(operation)) continue;
      operations++;
      const opAt = childPointer(itemAt, method);
      if (typeof operation.operationId === 'string') {
        const first = operationIds.get(operation.operationId);
        if (first !== undefined)
          add(
            'error',
            ProblemCode.duplicateOperationId,
            childPointer(opAt, 'operationId'),
            `operationId \`${operation.operationId}\` is already used at ${first}: each operation needs its own`,
          );
        else operationIds.set(operation.operationId, opAt);
      }
      const responses = operation.responses;
      if (!isObj(responses) || Object.keys(responses).filter((k) => !k.startsWith('x-')).length === 0)
        add(
          openapi31 ? 'warning' : 'error',
          ProblemCode.noResponses,
          childPointer(opAt, 'responses'),
          openapi31
            ? 'the operation declares no response: its result will be untyped; declare at least one'
            : 'an operation needs at least one response (for example `200` or `default`)',
        );
      const opLevel = parameterList(document, operation.parameters, childPointer(opAt, 'parameters'), add);
      const merged = new Map(pathLevel);
      for (const [key, p] of opLevel) merged.set(key, p);
      for (const [key, p] of merged) {
        if (p.in !== 'path') continue;
        const name = key.slice(key.indexOf(':') + 1);
        if (!templateNames.includes(name))
          add(
            'error',
            ProblemCode.pathParamUnused,
            p.at,
            `path parameter \`${name}\` does not appear in \`${path}\`: add \`{${name}}\` to the path or change \`in\``,
          );
        else if (p.required !== true)
          add(
            'error',
            ProblemCode.pathParamOptional,
            p.at,
            `path parameter \`${name}\` must declare \`required: true\``,
          );
      }
      for (const name of new Set(templateNames))
        if (!merged.has(`path:${name}`))
          add(
            'error',
            ProblemCode.pathParamUndeclared,
            childPointer(opAt, 'parameters'),
            `\`{${name}}\` in \`${path}\` has no parameter: declare \`{ name: ${name}, in: path, required: true }\` on the operation or its path`,
          );
      checkSecurity(operation.security, childPointer(opAt, 'security'));
    }
  }
  if (operations === 0)
    add(
      'warning',
      ProblemCode.noOperations,
      '/paths',
      isObj(document.webhooks) && Object.keys(document.webhooks).length > 0
        ? 'the document declares only webhooks (requests the API sends): there is no operation to call'
        : 'the document declares no operation: there is nothing to call',
    );
  return problems;
}

interface DeclaredParameter {
  in: unknown;
  required: unknown;
  at: string;
}

/** A level's parameters by `in:name`, references followed; a parameter declared twice is a problem. */
function parameterList(
  document: Obj,
  list: unknown,
  at: string,
  add: (s: SpecProblem['severity'], c: SpecProblem['code'], at: string, m: string) => void,
): Map<string, DeclaredParameter> {
  const out = new Map<string, DeclaredParameter>();
  if (!Array.isArray(list)) return out;
  list.forEach((raw, i) => {
    const p = deref(document, raw);
    if (!isObj(p) || typeof p.name !== 'string') return;
    const key = `${String(p.in)}:${p.name}`;
    const here = childPointer(at, i);
    if (out.has(key))
      add(
        'error',
        ProblemCode.duplicateParameter,
        here,
        `parameter \`${p.name}\` (in ${String(p.in)}) is declared twice here, also at ${out.get(key)!.at}: keep one`,
      );
    else out.set(key, { in: p.in, required: p.required, at: here });
  });
  return out;
}

/** Follows a local `$ref` chain (at most 32 hops; cycles and misses give undefined: checkRefs names them). */
export function deref(document: unknown, node: unknown): unknown {
  for (let hops = 0; hops < 32; hops++) {
    if (!isObj(node) || typeof node.$ref !== 'string') return node;
    const tokens = refTokens(node.$ref);
    if (!tokens) return undefined;
    const { found, value } = resolveTokens(document, tokens);
    if (!found) return undefined;
    node = value;
  }
  return undefined;
}

/** Every `$ref` in the document: external ones refused, local ones resolved, pure reference cycles named. */
export function referenceProblems(document: Obj): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (severity: SpecProblem['severity'], code: SpecProblem['code'], at: string, message: string) =>
    problems.push({ severity, code, pointer: at, message });
  // Pointers are built only for the places that have a problem: the walk visits every value of a
  // 13 MB document, and building a string for each was most of its time.
  interface Place {
    parent: Place | undefined;
    key: string;
  }
  const pointerOf = (place: Place | undefined): string => {
    const tokens: string[] = [];
    for (let p = place; p; p = p.parent) tokens.push(p.key);
    return pointer(...tokens.reverse());
  };
  /** References already seen to resolve: GitHub's 10,460 references name 1,764 places. */
  const resolving = new Set<string>();
  // In OpenAPI 3.x an `examples` map (of a parameter, a header, a media type, `components`) holds Example
  // Objects, and each may be a `$ref` that tools follow (oasdiff's loader reads files and URLs): its
  // entries are checked like any reference; only their `value` is data. (Swagger 2.0's `examples` are
  // values by media type, and a schema's `examples` is an array of values.)
  const exampleMaps = typeof document.openapi === 'string';
  const stack: [unknown, Place | undefined, string | typeof EXAMPLE_OBJECT | undefined][] = [
    [document, undefined, undefined],
  ];
  while (stack.length > 0) {
    const [node, place, parentKey] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      node.forEach((v, i) => {
        if (v !== null && typeof v === 'object') stack.push([v, { parent: place, key: String(i) }, undefined]);
      });
      continue;
    }
    const obj = node as Obj;
    // A string `$ref` is a reference wherever it stands: under `properties` a key named `$ref` is a property
    // name, but its value is then a schema (an object), never a string; and a component may be named
    // `properties` (`/components/schemas/properties`), so the parent's key cannot decide.
    if (typeof obj.$ref === 'string' && !resolving.has(obj.$ref))
      if (checkRef(document, obj.$ref, () => `${pointerOf(place)}/$ref`, add)) resolving.add(obj.$ref);
    if (parentKey === EXAMPLE_OBJECT) continue;
    for (const key in obj) {
      if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
      const value = obj[key];
      if (value === null || typeof value !== 'object') continue;
      if (parentKey !== 'properties' && key === 'examples' && exampleMaps && !Array.isArray(value)) {
        const examples = { parent: place, key };
        for (const name in value)
          if (Object.prototype.hasOwnProperty.call(value, name))
            stack.push([(value as Obj)[name], { parent: examples, key: name }, EXAMPLE_OBJECT]);
        continue;
      }
      if (parentKey !== 'properties' && (DATA_KEYS.has(key) || key.startsWith('x-'))) continue;
      stack.push([value, { parent: place, key }, key]);
    }
  }
  return problems;
}

function checkRef(
  document: Obj,
  ref: string,
  where: () => string,
  add: (s: SpecProblem['severity'], c: SpecProblem['code'], at: string, m: string) => void,
): boolean {
  const tokens = refTokens(ref);
  if (!tokens) {
    add(
      'error',
      ProblemCode.externalRef,
      where(),
      `\`${ref}\` points outside this document: references to other files or URLs are not supported; bundle the specification into one document (for example with \`redocly bundle\`)`,
    );
    return false;
  }
  const seen = new Set<string>([ref]);
  let current = ref;
  for (;;) {
    const { found, value } = resolveTokens(document, refTokens(current)!);
    if (!found) {
      add(
        'error',
        ProblemCode.unresolvedRef,
        where(),
        current === ref
          ? `\`${ref}\` does not resolve: nothing is declared at ${ref.slice(1) || '/'}; correct the name or add the definition`
          : `\`${ref}\` leads to \`${current}\`, which does not resolve`,
      );
      return false;
    }
    if (!isObj(value) || typeof value.$ref !== 'string') return true;
    const next = value.$ref;
    if (!refTokens(next)) return true; // named where it stands
    if (seen.has(next)) {
      add(
        'error',
        ProblemCode.circularRef,
        where(),
        `\`${ref}\` is a reference to a reference that leads back to itself (${[...seen, next].join(' -> ')}): point it at a definition`,
      );
      return false;
    }
    seen.add(next);
    current = next;
  }
}
