import type { OperationManifest } from '../manifest';
import { buildManifest } from './build-manifest';
import { IngestError, IngestErrorCode, ProblemCode, type SpecProblem } from './errors';
import { Deadline, parseLimits, type IngestLimitsInput } from './limits';
import { parseSpecText } from './parse';
import { schemaProblems, type SpecVersion } from './schema-validation';
import { referenceProblems, semanticProblems } from './semantic';
import { convertSwagger2 } from './swagger2';

export interface SpecInput {
  /** The specification's text: JSON or YAML. */
  text: string;
  /** The Content-Type it came with, if any (`application/yaml` makes it YAML even when it starts with `{`). */
  contentType?: string;
  /** Where it was fetched from: relative server URLs resolve against it. Nothing is fetched. */
  sourceUrl?: string;
}

export interface IngestResult {
  manifest: OperationManifest;
  /** The normalized OpenAPI 3.x document (a Swagger 2.0 upload converted); `manifest.specHash` is its hash. */
  document: Record<string, unknown>;
  /** Warnings (a refused specification throws, with its errors and warnings). */
  problems: SpecProblem[];
}

/**
 * A specification in, its operation manifest out, or an IngestError: SPEC_INVALID with every
 * problem named by pointer, SPEC_LIMIT_EXCEEDED for a hostile or runaway document, and the other
 * codes of errors.ts. Phases: bounded parse; version; the official schema of that version;
 * Swagger 2.0 converted to 3.0 (swagger2openapi); semantic checks on the 3.x document; the manifest.
 * Every phase runs under one deadline.
 */
export async function ingestSpec(input: SpecInput, limitsInput?: IngestLimitsInput): Promise<IngestResult> {
  const limits = parseLimits(limitsInput);
  const deadline = new Deadline(limits.timeoutMs);
  if (typeof input?.text !== 'string')
    throw new IngestError(IngestErrorCode.unparsable, 'the specification must be given as text');
  const { value } = parseSpecText(input.text, input.contentType, limits);
  deadline.check('parsing');
  const version = specVersion(value);
  const source = value as Record<string, unknown>;
  const sourceFormat = String(version === '2.0' ? source.swagger : source.openapi);

  const problems: SpecProblem[] = schemaProblems(source, version);
  deadline.check('validating against the OpenAPI schema');

  let document = source;
  if (version === '2.0') {
    // The converter follows references: refuse external ones and report the schema's findings first.
    const early = problems.concat(referenceProblems(source));
    if (early.some((p) => p.severity === 'error')) refuse(early, limits.maxProblems);
    const converted = await convertSwagger2(source);
    document = converted.document;
    problems.push(...converted.warnings);
    deadline.check('converting Swagger 2.0');
  }
  problems.push(...semanticProblems(document, deadline));
  if (problems.some((p) => p.severity === 'error')) refuse(problems, limits.maxProblems);

  try {
    const built = buildManifest({ document, sourceFormat, sourceUrl: input.sourceUrl, limits, deadline });
    return { manifest: built.manifest, document, problems: cap(problems.concat(built.problems), limits.maxProblems) };
  } catch (err) {
    if (err instanceof IngestError && err.code === IngestErrorCode.invalid)
      refuse(problems.concat(err.problems), limits.maxProblems);
    if (err instanceof RangeError)
      throw new IngestError(IngestErrorCode.limitExceeded, 'the document is too intricate to build a manifest from', {
        limit: 'maxDepth',
        cause: err,
      });
    throw err;
  }
}

function specVersion(value: unknown): SpecVersion {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new IngestError(
      IngestErrorCode.notOpenApi,
      'the specification is not an object: expected an OpenAPI document',
    );
  const v = value as Record<string, unknown>;
  if (typeof v.openapi === 'string') {
    if (/^3\.0\.\d+$/.test(v.openapi)) return '3.0';
    if (/^3\.1\.\d+$/.test(v.openapi)) return '3.1';
    throw new IngestError(
      IngestErrorCode.notOpenApi,
      `OpenAPI ${v.openapi} is not supported: upload an OpenAPI 3.0.x or 3.1.x document (or Swagger 2.0)`,
    );
  }
  if (v.swagger === '2.0' || v.swagger === 2) return '2.0';
  if (v.swagger !== undefined)
    throw new IngestError(IngestErrorCode.notOpenApi, `Swagger ${String(v.swagger)} is not supported: only 2.0 is`);
  throw new IngestError(
    IngestErrorCode.notOpenApi,
    'not an OpenAPI document: it has neither an `openapi` (3.0/3.1) nor a `swagger` (2.0) field',
  );
}

function cap(problems: SpecProblem[], max: number): SpecProblem[] {
  if (problems.length <= max) return problems;
  return [
    ...problems.slice(0, max),
    {
      severity: 'warning',
      code: ProblemCode.truncated,
      pointer: '',
      message: `${problems.length - max} more problem(s) not listed`,
    },
  ];
}

function refuse(problems: SpecProblem[], max: number): never {
  const errors = problems.filter((p) => p.severity === 'error');
  const sorted = [...errors, ...problems.filter((p) => p.severity !== 'error')];
  const first = errors[0]!;
  throw new IngestError(
    IngestErrorCode.invalid,
    `the specification has ${errors.length} error(s); the first: ${first.pointer || '/'}: ${first.message}`,
    { problems: cap(sorted, max) },
  );
}
