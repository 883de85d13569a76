import { convertObj } from 'swagger2openapi';
import { IngestError, IngestErrorCode, ProblemCode, type SpecProblem } from './errors';
import { childPointer } from './json-pointer';

const WARNING = 'x-s2o-warning';

/**
 * Swagger 2.0 to OpenAPI 3.0 with swagger2openapi (pinned). It patches minor mistakes and, rather
 * than failing on what 3.0 cannot say (collectionFormat: tsv, ...), marks the place: each mark
 * becomes a CONVERSION warning at its pointer and is taken out of the document. Nothing is
 * fetched: `resolve` stays off, and ingestSpec refuses external references before this runs.
 */
export async function convertSwagger2(
  swagger: Record<string, unknown>,
): Promise<{ document: Record<string, unknown>; warnings: SpecProblem[] }> {
  let document: Record<string, unknown>;
  try {
    const converted = await convertObj(
      structuredClone(swagger) as never,
      {
        patch: true,
        warnOnly: true,
        direct: true,
        resolve: false,
        // The converter YAML-stringifies the input for its messages unless given a text: not needed.
        text: '-',
      } as never,
    );
    document = converted as unknown as Record<string, unknown>;
  } catch (err) {
    throw new IngestError(
      IngestErrorCode.conversionFailed,
      `the Swagger 2.0 document could not be converted to OpenAPI 3.0: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  return { document, warnings: takeWarnings(document) };
}

function takeWarnings(root: unknown): SpecProblem[] {
  const warnings: SpecProblem[] = [];
  const stack: [unknown, string][] = [[root, '']];
  while (stack.length > 0) {
    const [node, at] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      node.forEach((v, i) => stack.push([v, childPointer(at, i)]));
      continue;
    }
    const obj = node as Record<string, unknown>;
    if (typeof obj[WARNING] === 'string') {
      warnings.push({
        severity: 'warning',
        code: ProblemCode.conversion,
        pointer: at,
        message: `converting to OpenAPI 3.0: ${obj[WARNING]}`,
      });
      delete obj[WARNING];
    }
    for (const [key, value] of Object.entries(obj)) stack.push([value, childPointer(at, key)]);
  }
  return warnings;
}
