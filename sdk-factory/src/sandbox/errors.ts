/**
 * The sandbox's one error type: every way an operation can fail as a step (its bundle, its limits,
 * its HTTP) ends as a SandboxError with a code from this closed set and a message a user can act on.
 * Messages never carry credentials or request headers.
 */
export const SandboxErrorCode = {
  /** The bundle does not parse, or throws while it loads. */
  badBundle: 'SANDBOX_BAD_BUNDLE',
  /** The bundle exports no function under the operation key. */
  unknownOperation: 'SANDBOX_UNKNOWN_OPERATION',
  /** The operation's input is not JSON, or its limits are invalid. */
  badInput: 'SANDBOX_BAD_INPUT',
  /** The operation ran past its time limit (CPU in the VM, or the whole call with its HTTP waits). */
  timeout: 'SANDBOX_TIMEOUT',
  /** The VM's memory or stack limit was hit. */
  resources: 'SANDBOX_RESOURCES',
  /** The operation threw or its promise rejected (an HTTP refusal it did not catch included). */
  operationFailed: 'SANDBOX_OPERATION_FAILED',
  /** The result is not JSON, or larger than the result limit. */
  badResult: 'SANDBOX_BAD_RESULT',
  /** More HTTP requests than the limit allows for one call. */
  httpLimit: 'SANDBOX_HTTP_LIMIT',
} as const;
export type SandboxErrorCode = (typeof SandboxErrorCode)[keyof typeof SandboxErrorCode];

export class SandboxError extends Error {
  override readonly name = 'SandboxError';
  constructor(
    readonly code: SandboxErrorCode,
    message: string,
  ) {
    super(message);
  }
}
