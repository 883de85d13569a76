/** The closed set of transform failures; the activity maps them to ApplicationFailure types. */
export const TransformErrorCode = {
  /** An expression that does not parse (JSONata syntax), or a script that does not compile. */
  badExpression: 'BAD_EXPRESSION',
  /** A record the transform cannot process (JSONata type error, a value coerce cannot convert). */
  badRecord: 'BAD_RECORD',
  /** The script ran past its time limit (per batch of records). */
  scriptTimeout: 'SCRIPT_TIMEOUT',
  /** The script went past its memory limit. */
  scriptMemory: 'SCRIPT_MEMORY',
  /** The script threw, or returned something that is not records. */
  scriptFailed: 'SCRIPT_FAILED',
  /** The transform's worker thread went past its heap (workerHeapMb): it was stopped, the host carries on. */
  memoryLimit: 'MEMORY_LIMIT',
  /** Bad settings (limits) or an op the engine does not know. */
  badInput: 'BAD_INPUT',
} as const;
export type TransformErrorCode = (typeof TransformErrorCode)[keyof typeof TransformErrorCode];

export interface TransformErrorDetails {
  /** 1-based number of the record in the transform's input, when one record is at fault. */
  record?: number;
  field?: string;
  cause?: unknown;
}

/** One error class for the transform boundary: everything the engine throws is one of these. */
export class TransformError extends Error {
  override readonly name = 'TransformError';
  constructor(
    readonly code: TransformErrorCode,
    message: string,
    readonly details: TransformErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }
}

export function isTransformError(err: unknown): err is TransformError {
  return err instanceof TransformError;
}

/** JSONata throws plain objects `{ code, message, position, token }`: made readable, position kept. */
export function jsonataMessage(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown; position?: unknown };
    const where = typeof e.position === 'number' ? ` at character ${e.position}` : '';
    if (typeof e.message === 'string') return `${e.message}${where}${typeof e.code === 'string' ? ` (${e.code})` : ''}`;
  }
  return String(err);
}

/**
 * The failure types a transform step ends with, wherever it ran (the cloud's transformDataset, the
 * agent's data.transform): what a definition's retry policy can name. None is retryable.
 */
export const TransformFailureType = {
  /** The transform itself is wrong (an expression that does not parse, a script without transform()). */
  badTransform: 'TransformInvalid',
  /** A record the transform cannot process (named by number and field in the message). */
  badRecord: 'TransformBadRecord',
  /** The script went past its time or memory limit. */
  scriptLimit: 'TransformScriptLimit',
  /** The transform went past its memory (its worker thread's heap): the message names the settings to change. */
  memoryLimit: 'TransformMemoryLimit',
} as const;
export type TransformFailureType = (typeof TransformFailureType)[keyof typeof TransformFailureType];

/** The failure type of an engine error. */
export function transformFailureType(err: TransformError): TransformFailureType {
  if (err.code === TransformErrorCode.memoryLimit) return TransformFailureType.memoryLimit;
  return err.code === TransformErrorCode.badRecord
    ? TransformFailureType.badRecord
    : err.code === TransformErrorCode.scriptTimeout || err.code === TransformErrorCode.scriptMemory
      ? TransformFailureType.scriptLimit
      : TransformFailureType.badTransform;
}
