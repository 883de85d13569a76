// The build's worker thread (started by build-api.ts; the gateway's bundle builds it as
// dist/build-worker.js): ingestion, SDK generation, per-operation bundles and the optional strict compile run here, so a 13 MB specification
// never holds the host's event loop, and a hostile one meets this thread's memory cap and deadline.
import { parentPort, workerData } from 'node:worker_threads';
import { bundleOperations } from '../codegen/bundle';
import type * as TypeCheck from '../codegen/type-check';
import { generateSources } from '../codegen/generate-sdk';
import { IngestError } from '../ingest/errors';
import { ingestSpec } from '../ingest/ingest';
import type { BuildWorkerAnswer, BuildWorkerData } from './build-protocol';

const { spec, ingestLimits, typeCheck } = workerData as BuildWorkerData;

async function build(): Promise<BuildWorkerAnswer> {
  try {
    const { manifest, document, problems } = await ingestSpec(spec, ingestLimits);
    const sources = generateSources(manifest);
    const bundles = await bundleOperations(sources);
    // TypeScript (~9 MB of JavaScript) loads only for a build that asks for the strict compile: loaded
    // at every start it cost seconds per registration on a loaded machine, an invalid spec included.
    // A require, not import(): tsx runs this worker from source through its CommonJS hook only.
    const typeErrors = typeCheck
      ? // eslint-disable-next-line @typescript-eslint/no-require-imports
        (require('../codegen/type-check') as typeof TypeCheck).typeCheckSdk(sources.files).errors
      : undefined;
    return {
      ok: true,
      built: {
        manifest,
        document,
        problems,
        files: sources.files,
        bundles,
        ...(typeErrors ? { typeCheck: { errors: typeErrors } } : {}),
      },
    };
  } catch (err) {
    if (err instanceof IngestError)
      return {
        ok: false,
        message: err.message,
        ingest: {
          code: err.code,
          message: err.message,
          problems: err.problems,
          ...(err.limit ? { limit: err.limit } : {}),
        },
      };
    return { ok: false, message: (err as Error)?.message ?? String(err) };
  }
}

void build().then((answer) => parentPort!.postMessage(answer));
