import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { OASDIFF_VERSION } from './config';
import { RegistryError, RegistryErrorCode } from './registry-error';

/** oasdiff's levels: 3 error (breaking), 2 warning (potentially breaking), 1 info. */
export const OASDIFF_LEVELS = { 1: 'info', 2: 'warning', 3: 'error' } as const;

/** One change of `oasdiff breaking --format json`, as much of it as the registry reads. */
const OasdiffChange = z.looseObject({
  id: z.string(),
  text: z.string(),
  level: z.number().int(),
  /** Upper-case HTTP method; absent for a change of the document as a whole. */
  operation: z.string().optional(),
  operationId: z.string().optional(),
  path: z.string().optional(),
  section: z.string().optional(),
});
export type OasdiffChange = z.infer<typeof OasdiffChange>;
const OasdiffReport = z.array(OasdiffChange).nullable();

export interface OasdiffRunner {
  readonly binary: string;
  /** `oasdiff breaking base revision`: the breaking (level error) and potentially breaking (warning) changes. */
  breaking(base: unknown, revision: unknown): Promise<OasdiffChange[]>;
}

/**
 * The registry's severity policy on top of oasdiff's defaults. oasdiff rates a removed optional
 * response property as info (a client must cope with its absence); but a definition step maps response
 * fields into rows, and a field that no longer comes breaks that mapping silently: potentially breaking.
 */
export const SEVERITY_OVERRIDES: Record<string, 'ERR' | 'WARN' | 'INFO'> = {
  'response-optional-property-removed': 'WARN',
};

/** Bounds on one run: a hostile or huge pair of documents must not hold the factory. */
const TIMEOUT_MS = 120_000;
const MAX_OUTPUT = 64 * 1024 * 1024;

/**
 * Runs the pinned oasdiff binary on two OpenAPI 3.x documents (Swagger 2.0 is converted before it gets
 * here). The documents go to a private temporary folder as JSON; oasdiff reads them there and nothing
 * else: external references are refused (`--allow-external-refs=false`), and oasdiff gets no URL.
 */
export function oasdiffRunner(binary: string): OasdiffRunner {
  const run = (args: string[]) =>
    new Promise<string>((resolve, reject) => {
      execFile(
        binary,
        args,
        { timeout: TIMEOUT_MS, maxBuffer: MAX_OUTPUT, encoding: 'utf8' },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const e = err as NodeJS.ErrnoException & { killed?: boolean };
          if (e.code === 'ENOENT' || e.code === 'EACCES')
            return reject(
              new RegistryError(
                RegistryErrorCode.oasdiffUnavailable,
                `oasdiff ${OASDIFF_VERSION} is not at ${binary}: run ./vsc test (or ./vsc up) once to build it, or set VSC_OASDIFF_BIN to an oasdiff ${OASDIFF_VERSION} binary`,
              ),
            );
          const tail = String(stderr).trim().split('\n').slice(-5).join('\n');
          reject(
            new RegistryError(
              RegistryErrorCode.oasdiffFailed,
              e.killed
                ? `oasdiff did not finish within ${TIMEOUT_MS / 1000} s: the documents are too large to compare`
                : `oasdiff could not compare the two versions: ${tail || e.message}`,
            ),
          );
        },
      );
    });

  // Checked once per runner: a binary of another release could rate changes differently.
  let versionChecked: Promise<void> | undefined;
  const checkVersion = () =>
    (versionChecked ??= run(['--version']).then((out) => {
      if (!out.includes(OASDIFF_VERSION.replace(/^v/, '')))
        throw new RegistryError(
          RegistryErrorCode.oasdiffUnavailable,
          `${binary} is not oasdiff ${OASDIFF_VERSION} (it says ${JSON.stringify(out.trim().slice(0, 80))}): point VSC_OASDIFF_BIN at the pinned release, or unset it`,
        );
    })).catch((err: unknown) => {
      versionChecked = undefined;
      throw err;
    });

  return {
    binary,
    async breaking(base, revision) {
      await checkVersion();
      const dir = await mkdtemp(join(tmpdir(), 'vsc-oasdiff-'));
      try {
        const basePath = join(dir, 'base.json');
        const revisionPath = join(dir, 'revision.json');
        await writeFile(basePath, JSON.stringify(base), { mode: 0o600 });
        await writeFile(revisionPath, JSON.stringify(revision), { mode: 0o600 });
        const severityPath = join(dir, 'severity-levels.txt');
        await writeFile(
          severityPath,
          Object.entries(SEVERITY_OVERRIDES)
            .map(([id, level]) => `${id} ${level}\n`)
            .join(''),
          { mode: 0o600 },
        );
        const out = await run([
          'breaking',
          basePath,
          revisionPath,
          '--format',
          'json',
          '--severity-levels',
          severityPath,
          // oasdiff follows `$ref`s to files and URLs by default: a tenant's document must not make the
          // factory read its disk or call its network (ingestion refuses such references; this holds for
          // any document that reaches the registry).
          '--allow-external-refs=false',
        ]);
        let parsed: unknown;
        try {
          parsed = out.trim() ? JSON.parse(out) : [];
        } catch {
          throw new RegistryError(RegistryErrorCode.oasdiffFailed, 'oasdiff printed something that is not JSON');
        }
        const report = OasdiffReport.safeParse(parsed);
        if (!report.success)
          throw new RegistryError(
            RegistryErrorCode.oasdiffFailed,
            `oasdiff's report has an unexpected shape (${report.error.issues[0]?.message ?? 'unknown'}): is ${binary} oasdiff ${OASDIFF_VERSION}?`,
          );
        return report.data ?? [];
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
