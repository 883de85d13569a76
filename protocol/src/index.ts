export * from './frames';
export { parseFrame, type ParseResult } from './parse-frame';
export { CloseCode } from './close-codes';
export { connectorTaskQueue } from './task-queues';
export { SqlQueryInput, SqlQueryOutput, type SqlQueryInputT, type SqlQueryOutputT } from './operations';
export { generateApiKey, checkApiKey, hashApiKey, hashesEqual, describeApiKey, TENANT_ID_PATTERN, type ParsedApiKey, type ApiKeyCheck } from './api-key';
export { AgentErrorType, NON_RETRYABLE_AGENT_ERRORS } from './agent-errors';
