// The manifest contract, importable without the factory's heavier parts (parsers, compilers, QuickJS):
// the gateway, the workflows and the console read manifests and must not pull those in.
export * from './operation-manifest';
