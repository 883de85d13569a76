// Apart from bundle.ts (which loads esbuild): the runner names this global without bundling anything.
/**
 * The global a bundle defines: `var vscOperation = { key, call(host, input?, options?), pages?(…) }`,
 * where `host` is the runtime's ClientOptions (the host's transport, and timers when the sandbox has
 * none), `call` resolves with `{ status, headers, body }` and `pages` is an async iterator of pages.
 */
export const BUNDLE_GLOBAL = 'vscOperation';
