export {
  createSandbox,
  type LoadedBundle,
  type RunOperationRequest,
  type Sandbox,
  type SandboxOptions,
} from './sandbox';
export { createInThreadSandbox } from './vm';
export { SandboxError, SandboxErrorCode } from './errors';
export { parseSandboxLimits, SandboxLimits, type SandboxLimitsInput } from './limits';
export * from './egress';
export { runPluginOperation, type PluginOperationRequest } from './extism';
