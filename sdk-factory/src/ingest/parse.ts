import { parseDocument } from 'yaml';
import { IngestError, IngestErrorCode } from './errors';
import { limitError, type IngestLimits } from './limits';

export type SourceSyntax = 'json' | 'yaml';

/**
 * Text to a JSON value, bounded: bytes first, then YAML aliases (refused by the yaml package before
 * they expand), then nesting depth and `$ref` count by one iterative walk (so no later recursive
 * step can overflow the stack). JSON text goes through JSON.parse (a 13 MB description parses in a
 * fraction of the time YAML takes); YAML is YAML 1.2 (core schema: no custom tags run).
 */
export function parseSpecText(
  text: string,
  contentType: string | undefined,
  limits: IngestLimits,
): { value: unknown; syntax: SourceSyntax } {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes)
    throw new IngestError(
      IngestErrorCode.tooLarge,
      `the specification is ${bytes} bytes, more than the ${limits.maxBytes} accepted`,
      { limit: 'maxBytes' },
    );
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') throw new IngestError(IngestErrorCode.unparsable, 'the specification is empty');
  const syntax = looksLikeJson(body, contentType) ? 'json' : 'yaml';
  const value = syntax === 'json' ? parseJson(body) : parseYaml(body, limits);
  checkShape(value, limits);
  return { value, syntax };
}

function looksLikeJson(text: string, contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type && /(^|[/+])ya?ml$/.test(type)) return false;
  return /^\s*[{[]/.test(text);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new IngestError(
      IngestErrorCode.unparsable,
      `the specification is not valid JSON${whereJsonFails(text)}: ${message}`,
      {
        cause: err,
      },
    );
  }
}

/** Node's JSON.parse does not always say where: the YAML parser (JSON is YAML) finds the line and column. */
function whereJsonFails(text: string): string {
  try {
    const pos = parseDocument(text, { prettyErrors: true }).errors[0]?.linePos?.[0];
    return pos ? ` at line ${pos.line}, column ${pos.col}` : '';
  } catch {
    return '';
  }
}

function parseYaml(text: string, limits: IngestLimits): unknown {
  let doc;
  try {
    doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, version: '1.2', stringKeys: true });
  } catch (err) {
    throw unparsableYaml(err);
  }
  // The yaml parser catches its own stack overflow on absurd nesting and reports it as a syntax error.
  if (doc.errors.some((e) => /call stack/i.test(e.message)))
    throw limitError('maxDepth', 'the YAML is nested too deeply to read: refused');
  if (doc.errors.length > 0)
    throw new IngestError(
      IngestErrorCode.unparsable,
      `the specification is not valid YAML: ${doc.errors
        .slice(0, 5)
        .map((e) => e.message.split('\n')[0])
        .join('; ')}`,
    );
  try {
    return doc.toJS({ maxAliasCount: limits.maxYamlAliases });
  } catch (err) {
    if (err instanceof ReferenceError && /alias/i.test(err.message))
      throw limitError(
        'maxYamlAliases',
        `the YAML repeats its aliases more than ${limits.maxYamlAliases} times over (an alias bomb expands exponentially): refused; write the repeated parts out or use $ref`,
      );
    throw unparsableYaml(err);
  }
}

function unparsableYaml(err: unknown): IngestError {
  if (err instanceof RangeError) return limitError('maxDepth', 'the YAML is nested too deeply to read: refused');
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return new IngestError(IngestErrorCode.unparsable, `the specification is not valid YAML: ${message}`, { cause: err });
}

/** Depth and `$ref` count, without recursion. */
function checkShape(root: unknown, limits: IngestLimits): void {
  const stack: [unknown, number][] = [[root, 1]];
  let refs = 0;
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limits.maxDepth)
      throw limitError(
        'maxDepth',
        `the document nests objects and arrays deeper than ${limits.maxDepth} levels: refused`,
      );
    if (Array.isArray(node)) {
      for (const item of node) if (item !== null && typeof item === 'object') stack.push([item, depth + 1]);
      continue;
    }
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && ++refs > limits.maxRefs)
        throw limitError('maxRefs', `the document holds more than ${limits.maxRefs} $refs: refused`);
      if (value !== null && typeof value === 'object') stack.push([value, depth + 1]);
    }
  }
}
