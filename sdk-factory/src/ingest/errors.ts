/**
 * The one error registry of the ingestion boundary: the closed set of reasons a specification is
 * refused (IngestErrorCode) and the closed set of problems validation names inside one
 * (ProblemCode). Everything ingestSpec throws is an IngestError; a refused specification carries
 * every problem found, each at a JSON pointer into the document.
 */

export const IngestErrorCode = {
  /** The text is larger than `limits.maxBytes`. */
  tooLarge: 'SPEC_TOO_LARGE',
  /** The text is neither JSON nor YAML, or is more than one YAML document. */
  unparsable: 'SPEC_UNPARSABLE',
  /** Parsed, but not an OpenAPI 3.0/3.1 or Swagger 2.0 document (no `openapi`/`swagger` version we read). */
  notOpenApi: 'SPEC_NOT_OPENAPI',
  /** Swagger 2.0 to OpenAPI 3.0 conversion failed. */
  conversionFailed: 'SPEC_CONVERSION_FAILED',
  /** Validation found at least one error: `problems` names each one. */
  invalid: 'SPEC_INVALID',
  /** A bound on resources was reached (YAML aliases, nesting depth, references, expansion, time): a hostile or runaway document. */
  limitExceeded: 'SPEC_LIMIT_EXCEEDED',
  /** The limits passed by the caller are not valid. */
  badLimits: 'INGEST_BAD_LIMITS',
} as const;
export type IngestErrorCode = (typeof IngestErrorCode)[keyof typeof IngestErrorCode];

/** What one problem inside a specification is about. */
export const ProblemCode = {
  /** The document does not match the official OpenAPI (or Swagger 2.0) JSON Schema at this place. */
  schema: 'SCHEMA',
  /** A `$ref` that names a place the document does not have. */
  unresolvedRef: 'UNRESOLVED_REF',
  /** A `$ref` to another file or URL (not supported: bundle the specification into one document). */
  externalRef: 'EXTERNAL_REF',
  /** A `$ref` that leads back to itself without passing through a named schema (parameters, responses, ...). */
  circularRef: 'CIRCULAR_REF',
  /** Two operations declare the same `operationId`. */
  duplicateOperationId: 'DUPLICATE_OPERATION_ID',
  /** Two operations end with the same stable key (an operationId spelled like another's `METHOD /path`). */
  duplicateOperationKey: 'DUPLICATE_OPERATION_KEY',
  /** A `{name}` in a path template with no `in: path` parameter of that name. */
  pathParamUndeclared: 'PATH_PARAM_UNDECLARED',
  /** An `in: path` parameter whose name is not in the path template. */
  pathParamUnused: 'PATH_PARAM_UNUSED',
  /** An `in: path` parameter without `required: true`. */
  pathParamOptional: 'PATH_PARAM_NOT_REQUIRED',
  /** The same parameter (name and location) declared twice at one level. */
  duplicateParameter: 'DUPLICATE_PARAMETER',
  /** A security requirement names a scheme that `components.securitySchemes` does not declare. */
  unknownSecurityScheme: 'UNKNOWN_SECURITY_SCHEME',
  /** An operation without any response. */
  noResponses: 'NO_RESPONSES',
  /** Two path templates that differ only in parameter names (`/a/{id}` and `/a/{name}`): a request cannot tell them apart. */
  ambiguousPath: 'AMBIGUOUS_PATH',
  /** The document declares no operation (for example only webhooks): nothing to call. */
  noOperations: 'NO_OPERATIONS',
  /** Something the Swagger 2.0 conversion had to change or could not carry over. */
  conversion: 'CONVERSION',
  /** More problems than `limits.maxProblems`: the rest are counted, not listed. */
  truncated: 'PROBLEMS_TRUNCATED',
} as const;
export type ProblemCode = (typeof ProblemCode)[keyof typeof ProblemCode];

export type ProblemSeverity = 'error' | 'warning';

export interface SpecProblem {
  severity: ProblemSeverity;
  code: ProblemCode;
  /** JSON pointer (RFC 6901) into the document: the uploaded one for SCHEMA problems, else the normalized OpenAPI 3.x one (the same paths for 3.x uploads). */
  pointer: string;
  /** What is wrong and what to do, for a person. */
  message: string;
}

export interface IngestErrorDetails {
  /** Every problem found (errors and warnings) when `code` is SPEC_INVALID. */
  problems?: SpecProblem[];
  /** Which bound was reached, for SPEC_LIMIT_EXCEEDED. */
  limit?: string;
  cause?: unknown;
}

/** One error class for the ingestion boundary. */
export class IngestError extends Error {
  override readonly name = 'IngestError';
  readonly problems: SpecProblem[];
  readonly limit: string | undefined;
  constructor(
    readonly code: IngestErrorCode,
    message: string,
    details: IngestErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.problems = details.problems ?? [];
    this.limit = details.limit;
  }
}

export function isIngestError(err: unknown): err is IngestError {
  return err instanceof IngestError;
}

/** `pointer: message` lines, what a CLI or an error response shows. */
export function formatProblems(problems: readonly SpecProblem[]): string {
  return problems.map((p) => `${p.severity} ${p.pointer || '/'}: ${p.message} (${p.code})`).join('\n');
}
