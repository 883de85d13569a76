import type { SpecInput } from '../ingest/ingest';
import type { IngestErrorCode, SpecProblem } from '../ingest/errors';
import type { IngestLimitsInput } from '../ingest/limits';
import type { BuiltApi } from './build-api';

/** What the host gives the build's worker thread. */
export interface BuildWorkerData {
  spec: SpecInput;
  ingestLimits?: IngestLimitsInput;
  typeCheck: boolean;
}

/** The worker's one answer: the build, or why the specification was refused. */
export type BuildWorkerAnswer =
  | { ok: true; built: BuiltApi }
  | {
      ok: false;
      ingest?: { code: IngestErrorCode; message: string; problems: SpecProblem[]; limit?: string };
      message: string;
    };
