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
];
