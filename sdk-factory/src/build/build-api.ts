import { startWorkerEntry } from '@vansales/transforms/worker-entry';
import { z } from 'zod';
import type { OperationBundle } from '../codegen/bundle';
import { IngestError, IngestErrorCode, type SpecProblem } from '../ingest/errors';
import type { SpecInput } from '../ingest/ingest';
import type { IngestLimitsInput } from '../ingest/limits';
import type { OperationManifest } from '../manifest';
import type { BuildWorkerAnswer, BuildWorkerData } from './build-protocol';

/** What one build produced: what `ingestSpec` gives, the SDK's sources and one sandbox bundle per operation. */
export interface BuiltApi {
  manifest: OperationManifest;
  /** The normalized OpenAPI 3.x document; `manifest.specHash` is its hash. */
  document: Record<string, unknown>;
  /** Warnings (a refused specification is an IngestError). */
  problems: SpecProblem[];
  /** The generated TypeScript SDK (`index.ts`, `runtime.ts`, `schemas.ts`, `operations/<name>.ts`). */
  files: Record<string, string>;
  /** One sandbox-ready bundle per operation, in the manifest's order (`bundle:<key>` in the registry). */
  bundles: OperationBundle[];
  /** With `typeCheck: true`: the SDK compiled with `tsc --strict` (`errors` empty when it compiles). */
  typeCheck?: { errors: string[] };
}

/** Bounds of one build's worker thread. */
export const BuildOptions = z.object({
  /** Also compile the SDK with `tsc --strict` (seconds more; verification, not needed to run operations). */
  typeCheck: z.boolean().default(false),
  /** The whole build, in ms; the thread is terminated at this deadline. Default 120,000. */
  timeoutMs: z
    .number()
    .int()
    .min(100)
    .max(30 * 60_000)
    .default(120_000),
  /** The thread's JavaScript heap (old generation), in MiB; past it the build is refused. Default 768. */
  memoryMb: z.number().int().min(64).max(16_384).default(768),
  /** Ingestion's own bounds (bytes, aliases, depth, references, time): `IngestLimits`. */
  ingestLimits: z.custom<IngestLimitsInput>((value) => value === undefined || typeof value === 'object').optional(),
});
export type BuildOptions = z.input<typeof BuildOptions>;

/**
 * A specification to everything the gateway registers for it, in a worker thread with bounded time
 * and memory: ingestion (validation, manifest), SDK generation, per-operation bundles and, as an
 * option, the strict compile. The host's event loop stays free (GitHub's 13 MB description takes
 * seconds of CPU); a hostile specification is refused (SPEC_LIMIT_EXCEEDED naming the bound that
 * the thread's memory cap or deadline, or ingestion's own bounds, met), never fatal to the host.
 * Errors are IngestErrors, as `ingestSpec`'s: SPEC_INVALID with every problem, SPEC_LIMIT_EXCEEDED.
 */
export async function buildApi(spec: SpecInput | string, options: BuildOptions = {}): Promise<BuiltApi> {
  const parsed = BuildOptions.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TypeError(`build option ${issue.path.join('.') || '(options)'}: ${issue.message}`);
  }
  const { typeCheck, timeoutMs, memoryMb, ingestLimits } = parsed.data;
  const input: SpecInput = typeof spec === 'string' ? { text: spec } : spec;
  if (typeof input?.text !== 'string')
    throw new IngestError(IngestErrorCode.unparsable, 'the specification must be given as text');
  const started = Date.now();
  // dist/build-worker.js beside a process bundle's main (tsup.process.ts), else build-worker.ts through tsx.
  const worker = startWorkerEntry(__dirname, 'build-worker', {
    name: 'vsc-api-build',
    workerData: { spec: input, typeCheck, ...(ingestLimits ? { ingestLimits } : {}) } satisfies BuildWorkerData,
    resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: 32 },
  });
  const limited = (limit: string, message: string) =>
    new IngestError(IngestErrorCode.limitExceeded, message, { limit });
  try {
    const answer = await new Promise<BuildWorkerAnswer>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            limited(
              'timeoutMs',
              `building the API took longer than ${timeoutMs} ms; it was stopped (a specification this slow to process is refused)`,
            ),
          ),
        Math.max(0, timeoutMs - (Date.now() - started)),
      );
      worker.once('message', (message: BuildWorkerAnswer) => {
        clearTimeout(timer);
        resolve(message);
      });
      worker.once('error', (err: Error & { code?: string }) => {
        clearTimeout(timer);
        reject(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? limited(
                'memoryMb',
                `building the API needed more than ${memoryMb} MiB of memory; it was stopped (a specification this large is refused)`,
              )
            : new Error(`building the API failed: ${err.message}`),
        );
      });
      worker.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`building the API failed: its worker thread stopped (exit code ${code})`));
      });
    });
    if (answer.ok) return answer.built;
    if (answer.ingest)
      throw new IngestError(answer.ingest.code, answer.ingest.message, {
        problems: answer.ingest.problems,
        ...(answer.ingest.limit ? { limit: answer.ingest.limit } : {}),
      });
    throw new Error(`building the API failed: ${answer.message}`);
  } finally {
    void worker.terminate();
  }
}
