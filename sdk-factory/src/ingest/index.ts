// Specifications in, operation manifest out (issue 11 item 1). Text only: fetching a URL is the
// egress guard's job, which hands its text here.
export { ingestSpec, type IngestResult, type SpecInput } from './ingest';
export {
  IngestError,
  IngestErrorCode,
  ProblemCode,
  formatProblems,
  isIngestError,
  type ProblemSeverity,
  type SpecProblem,
} from './errors';
export { IngestLimits, type IngestLimitsInput } from './limits';
export { specHash } from './build-manifest';
