// A specification to manifest, SDK and per-operation bundles in one call, off the caller's thread
// (issue 11: the gateway registers a 13 MB specification without holding its event loop).
export { buildApi, BuildOptions, type BuiltApi } from './build-api';
