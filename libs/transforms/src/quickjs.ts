import releaseSync from '@jitl/quickjs-wasmfile-release-sync';
import {
  newQuickJSWASMModuleFromVariant,
  type QuickJSSyncVariant,
  type QuickJSWASMModule,
} from 'quickjs-emscripten-core';

/**
 * The QuickJS WebAssembly module every sandbox of the process shares (the transforms' `script` op,
 * the SDK factory's operation sandbox): entry `@vansales/transforms/quickjs`, light (QuickJS only).
 *
 * The release build (sync, its .wasm beside it), loaded once per process. Its module loader is
 * required rather than imported: the package's own variant uses a dynamic import(), which CommonJS
 * hosts such as jest's module loader refuse.
 */
const variant: QuickJSSyncVariant = {
  ...(releaseSync as QuickJSSyncVariant),
  importModuleLoader: async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loader = require('@jitl/quickjs-wasmfile-release-sync/emscripten-module') as { default?: unknown };
    return (loader.default ?? loader) as Awaited<ReturnType<QuickJSSyncVariant['importModuleLoader']>>;
  },
};
let quickjs: Promise<QuickJSWASMModule> | undefined;

export const getQuickJS = (): Promise<QuickJSWASMModule> => (quickjs ??= newQuickJSWASMModuleFromVariant(variant));

/**
 * The host's own stack ran out inside the WebAssembly (deep recursion past QuickJS's check): the
 * module is not trusted again; the next sandbox loads a fresh one. Runtimes of the old module stay
 * usable until disposed (they hold their own instance).
 */
export function forgetQuickJS(): void {
  quickjs = undefined;
}

/** `Name: message` of an error dumped from a VM (or the dumped value itself, cut to 500 characters). */
export function describeVmError(dumped: unknown): string {
  if (dumped && typeof dumped === 'object') {
    const e = dumped as { name?: unknown; message?: unknown };
    if (typeof e.message === 'string') return `${typeof e.name === 'string' ? `${e.name}: ` : ''}${e.message}`;
  }
  return String(dumped).slice(0, 500);
}

/** Which VM limit a failure message says was hit: QuickJS's own wording for each. */
export function vmLimitHit(message: string): 'time' | 'stack' | 'memory' | undefined {
  if (/interrupted/i.test(message)) return 'time';
  if (/stack overflow/i.test(message)) return 'stack';
  if (/out of memory/i.test(message)) return 'memory';
  return undefined;
}
