/**
 * Failure types an agent operation can end with. They travel in failure frames and become the
 * `type` of the Temporal ApplicationFailure, so workflows and retry policies can tell them apart.
 */
export const AgentErrorType = {
  /** The SQL text was refused before it reached the database. */
  sqlRefused: 'SqlRefused',
  /** The database answered with an error for this statement. */
  sqlError: 'SqlError',
  /** The agent has no database of that name configured. */
  unknownDatabase: 'UnknownDatabase',
  /** The database could not be reached (down, network, auth). */
  databaseUnavailable: 'DatabaseUnavailable',
  /** The task input failed validation on the agent. */
  badInput: 'BadInput',
  /** The agent does not offer the operation asked for. */
  unsupportedOperation: 'UnsupportedOperation',
  /** The WebSocket dropped while the task ran; Temporal retries it when the agent is back. */
  agentDisconnected: 'AgentDisconnected',
  /** The work was cancelled. */
  cancelled: 'Cancelled',
  /** The site's local policy file does not allow this (e.g. a load into a table it does not list). */
  policyRefused: 'PolicyRefused',
  /** A value or column type cannot be represented in the destination; the message names table and column. */
  unmappableType: 'UnmappableType',
  /** A buffer object was refused: tampered, truncated, expired, another tenant's, or missing. */
  bufferRefused: 'BufferRefused',
  /** The buffer could not be reached (gateway or store down); a retry may succeed. */
  bufferUnavailable: 'BufferUnavailable',
  /** The destination refused a write (constraint, range); the message names table and column where known. */
  writeFailed: 'WriteFailed',
  /** An HTTP step named a URL this side may not call: outside the site's APIs, or a private address from the cloud. */
  egressRefused: 'EgressRefused',
  /** An API answered a final error (4xx) or something the step cannot read; the message names the status and URL path. */
  httpFailed: 'HttpFailed',
  /** An API could not be reached, timed out, or kept answering 429/5xx; a retry may succeed. */
  httpUnavailable: 'HttpUnavailable',
  /**
   * data.transform: the transform is wrong, a record cannot be processed, a script went past its
   * limits. The same names as the cloud's transformDataset failures, so a retry policy names either.
   */
  transformInvalid: 'TransformInvalid',
  transformBadRecord: 'TransformBadRecord',
  transformScriptLimit: 'TransformScriptLimit',
  transformMemoryLimit: 'TransformMemoryLimit',
  /** Anything else; message says what. */
  internal: 'AgentInternal',
} as const;
export type AgentErrorType = (typeof AgentErrorType)[keyof typeof AgentErrorType];

/** Types no retry can fix. */
export const NON_RETRYABLE_AGENT_ERRORS: readonly AgentErrorType[] = [
  AgentErrorType.sqlRefused,
  AgentErrorType.sqlError,
  AgentErrorType.unknownDatabase,
  AgentErrorType.badInput,
  AgentErrorType.unsupportedOperation,
  AgentErrorType.policyRefused,
  AgentErrorType.unmappableType,
  AgentErrorType.bufferRefused,
  AgentErrorType.writeFailed,
  AgentErrorType.egressRefused,
  AgentErrorType.httpFailed,
  AgentErrorType.transformInvalid,
  AgentErrorType.transformBadRecord,
  AgentErrorType.transformScriptLimit,
  AgentErrorType.transformMemoryLimit,
];
