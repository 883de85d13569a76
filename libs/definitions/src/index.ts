export * from './model';
export * from './contracts';
export * from './site-event';
export { accessibilityRefusal, routeApiOperation, routeStep, type RoutingContext } from './routing';
export { connectorIdsOf } from './connectors';
export { apiOperationUses, stepsUsingOperations, type ApiOperationUse } from './api-operations';
export {
  validateDefinition,
  validateDefinitionStructure,
  formatPath,
  ValidationIssueCode,
  type ValidationIssue,
  type ValidationContext,
  type ValidationResult,
} from './validate';
// hash.ts (node:crypto) is on its own entry point, `@vansales/definitions/hash`: workflow code imports this index.
export { canonicalJson } from './canonical-json';
export { diffDefinitions, changedPaths, type DefinitionDiff, type StepChange } from './diff';
export { definitionJsonSchema } from './json-schema';
export { cronProblem } from './cron';
export { incrementalSourceKey } from './source-cursor';
