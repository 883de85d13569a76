// The SDK generator (issue 11, item 2): a manifest in, a strictly typed TypeScript SDK and one
// sandbox-ready script per operation out.
import type { OperationManifest } from '../manifest';
import { bundleOperations, type OperationBundle } from './bundle';
import { type GenerateOptions, type GeneratedOperation, generateSources } from './generate-sdk';

export { BUNDLE_GLOBAL, bundleOperations, runtimeBundle, type OperationBundle } from './bundle';
export { docComment, propertyKey, stringLiteral } from './emit-text';
export {
  type GenerateOptions,
  type GeneratedOperation,
  type GeneratedSources,
  generateSources,
  sdkRuntimeSource,
} from './generate-sdk';
export { SDK_COMPILER_OPTIONS, type TypeCheckResult, typeCheckSdk } from './type-check';

export interface GenerateSdkOptions extends GenerateOptions {
  /** Also bundle each operation with the runtime for the sandbox (default false). */
  readonly bundle?: boolean;
}

export interface GeneratedSdk {
  readonly files: Record<string, string>;
  readonly operations: Array<GeneratedOperation & { readonly bundle?: string }>;
}

export async function generateSdk(
  manifest: OperationManifest,
  options: GenerateSdkOptions = {},
): Promise<GeneratedSdk> {
  const sources = generateSources(manifest, options);
  if (options.bundle !== true) return sources;
  const bundles = await bundleOperations(sources);
  return {
    files: sources.files,
    operations: sources.operations.map((operation, index) => ({ ...operation, bundle: bundles[index]?.bundle })),
  };
}

/**
 * The sandbox-ready SDK of a manifest: one script per operation (`bundleOperations`), keyed by the
 * operation's key. Pure in, data out, so that it can run off the gateway's event loop unchanged.
 */
export async function buildOperationBundles(manifest: OperationManifest): Promise<OperationBundle[]> {
  return bundleOperations(generateSources(manifest, { docs: false }));
}
