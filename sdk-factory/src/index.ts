// Public surface of @vansales/sdk-factory. Each part has its own entry too (`@vansales/sdk-factory/<part>`)
// so that a reader of manifests does not load the parsers, the generator or the sandbox.
export * from './manifest';
export * from './ingest';
export * from './registry';
export * from './sandbox';
