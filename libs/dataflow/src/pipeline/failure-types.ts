import { AgentErrorType } from '@vansales/protocol';
import type { DataflowErrorCode } from '../errors';

/**
 * The one table from this package's error codes to the failure types workflows see, used by the
 * agent's operations and the cloud activities alike (a retry policy cannot tell them apart).
 */
const FAILURE_TYPES: Record<DataflowErrorCode, AgentErrorType> = {
  UNMAPPABLE_TYPE: AgentErrorType.unmappableType,
  BAD_VALUE: AgentErrorType.writeFailed,
  WRITE_FAILED: AgentErrorType.writeFailed,
  DDL_FAILED: AgentErrorType.writeFailed,
  BAD_CHUNK: AgentErrorType.bufferRefused,
  CHUNK_TOO_LARGE: AgentErrorType.bufferRefused,
  BAD_OBJECT: AgentErrorType.bufferRefused,
  BAD_IDENTIFIER: AgentErrorType.badInput,
  BAD_REQUEST: AgentErrorType.badInput,
  CANCELLED: AgentErrorType.cancelled,
  CONNECTION_FAILED: AgentErrorType.databaseUnavailable,
  POLICY_REFUSED: AgentErrorType.policyRefused,
  NOT_FOUND: AgentErrorType.sqlError,
  READ_FAILED: AgentErrorType.sqlError,
  UNSUPPORTED_DIALECT: AgentErrorType.sqlError,
  HTTP_REFUSED: AgentErrorType.egressRefused,
  HTTP_FAILED: AgentErrorType.httpFailed,
  HTTP_UNAVAILABLE: AgentErrorType.httpUnavailable,
  BAD_EXPRESSION: AgentErrorType.badInput,
};

export function failureTypeOf(code: DataflowErrorCode): AgentErrorType {
  return FAILURE_TYPES[code];
}
