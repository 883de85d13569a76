// Public surface of @vansales/transforms. Everything else under internal/ and ops/ is internal.
export { runTransform, outputFields, type Batches, type TransformInputs, type RunTransformOptions } from './engine';
export {
  compileExpression,
  createMapper,
  createPredicate,
  type TransformExpression,
  type ExpressionOptions,
  type TransformRecord,
} from './expression';
export { TransformLimits, parseTransformLimits, type TransformLimitsInput } from './limits';
export {
  TransformError,
  TransformErrorCode,
  TransformFailureType,
  transformFailureType,
  isTransformError,
  type TransformErrorDetails,
} from './errors';
export { coerceValue, type CoerceType } from './ops/coerce';
export { type JoinSide } from './ops/join';
export { SpillArea, SpillFile } from './internal/spill';
export {
  transformObjects,
  type ObjectReader,
  type ObjectWriter,
  type TransformProgress,
  type TransformObjectOptions,
} from './transform-object';
export { transformObjectsInWorker, type TransformInWorkerOptions } from './worker/run-in-worker';
