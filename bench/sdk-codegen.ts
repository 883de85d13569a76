/**
 * Benchmark: the SDK factory's generation stage on one operation manifest (issue 11 target, with
 * ingestion: GitHub's 13 MB description, 1,223 operations, to manifest + sandbox-ready SDK in at most
 * 8 s and 400 MB). Prints one JSON line: operations in the manifest, generated and bundled (all must be
 * equal), generation and bundling time, bundle sizes, peak RSS; with `--typecheck`, the `tsc --strict`
 * errors of the generated SDK and the time that check took (verification, not part of the target).
 *
 *   node --import tsx sdk-codegen.ts --manifest=<manifest.json> [--typecheck]
 *
 * Until ingestion lands, the manifest is a file; the combined spec → SDK run belongs in sdk-factory-bench.ts.
 * No assertion on time: the figures are the result.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { bundleOperations, generateSources, typeCheckSdk } from '@vansales/sdk-factory/codegen';
import { OperationManifest } from '@vansales/sdk-factory/manifest';

const args = process.argv.slice(2);
const manifestPath = args.find((arg) => arg.startsWith('--manifest='))?.slice('--manifest='.length);
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Generation, bundling and (optionally) the strict compile of one manifest's SDK. */
export async function measureSdkStage(
  manifest: OperationManifest,
  typecheck: boolean,
): Promise<Record<string, unknown>> {
  let started = performance.now();
  const sources = generateSources(manifest);
  const generateMs = performance.now() - started;
  started = performance.now();
  const bundles = await bundleOperations(sources);
  const bundleMs = performance.now() - started;
  const sizes = bundles.map((entry) => Buffer.byteLength(entry.bundle)).sort((a, b) => a - b);
  const figures: Record<string, unknown> = {
    stage: 'sdk-codegen',
    api: manifest.title,
    operations: manifest.operations.length,
    generated: sources.operations.length,
    bundled: bundles.length,
    source_mb: round(Object.values(sources.files).reduce((sum, text) => sum + text.length, 0) / 1e6),
    generate_ms: Math.round(generateMs),
    bundle_ms: Math.round(bundleMs),
    bundle_kb_median: round((sizes[sizes.length >> 1] ?? 0) / 1024),
    bundle_kb_max: round((sizes.at(-1) ?? 0) / 1024),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (typecheck) {
    started = performance.now();
    const { errors } = typeCheckSdk(sources.files);
    figures['tsc_strict_errors'] = errors.length;
    figures['tsc_ms'] = Math.round(performance.now() - started);
    figures['peak_rss_with_tsc_mb'] = Math.round(process.resourceUsage().maxRSS / 1024);
    for (const error of errors.slice(0, 20)) process.stderr.write(`[bench] ${error}\n`);
  }
  return figures;
}

if (require.main === module) {
  if (manifestPath === undefined) {
    process.stderr.write('usage: node --import tsx sdk-codegen.ts --manifest=<manifest.json> [--typecheck]\n');
    process.exit(2);
  }
  const started = performance.now();
  const manifest = OperationManifest.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  const parseMs = Math.round(performance.now() - started);
  void measureSdkStage(manifest, args.includes('--typecheck')).then((figures) =>
    process.stdout.write(`${JSON.stringify({ ...figures, manifest_parse_ms: parseMs })}\n`),
  );
}
