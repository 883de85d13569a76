// Running one API operation as a definition step does (issue 11 items 2 and 3): the generated bundle in
// the sandbox, behind the egress guard, with host-attached credentials. Entry `@vansales/sdk-factory/runner`.
export {
  runApiOperation,
  type ApiOperationCall,
  type ApiOperationHost,
  type ApiOperationResult,
} from './run-api-operation';
export { exchangeApiOperation, type ApiOperationExchange } from './run-api-operation';
export { operationTransport, type OperationCallFacts, type OperationTransportOptions } from './operation-transport';
// The sandbox itself without the Extism part (the sandbox entry's), for a worker that runs bundles only.
export { createSandbox, type Sandbox } from '../sandbox/sandbox';
