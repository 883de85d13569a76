export * from './frames';
export { parseFrame, type ParseResult } from './parse-frame';
export { CloseCode } from './close-codes';
export { connectorTaskQueue } from './task-queues';
export {
  SqlQueryInput,
  SqlQueryOutput,
  type SqlQueryInputT,
  type SqlQueryOutputT,
  SchemaDiscoverInput,
  SchemaDiscoverOutput,
  type SchemaDiscoverInputT,
  type SchemaDiscoverOutputT,
} from './operations';
export {
  SchemaSnapshot,
  SNAPSHOT_LIMITS,
  NamespaceSnapshot,
  TableSnapshot,
  ColumnSnapshot,
  ForeignKeySnapshot,
  IndexSnapshot,
  TableKind,
  ReferentialAction,
  sortSnapshot,
  structuralSnapshot,
  stableJson,
  compareNames,
} from './schema-snapshot';
export { diffSnapshots, type SchemaChange, type SchemaChangeKind } from './schema-diff';
export {
  generateApiKey,
  checkApiKey,
  hashApiKey,
  hashesEqual,
  describeApiKey,
  TENANT_ID_PATTERN,
  type ParsedApiKey,
  type ApiKeyCheck,
} from './api-key';
export { AgentErrorType, NON_RETRYABLE_AGENT_ERRORS } from './agent-errors';
export {
  AuditRecord,
  AuditActor,
  AuditStatement,
  AuditOutcome,
  AuditParamType,
  AUDIT_GENESIS_HASH,
  AUDIT_STATEMENT_MAX_CHARS,
  sanitizeStatement,
  canonicalJson,
  hashRecord,
  linkRecord,
  verifyChain,
  ChainVerifier,
  ChainBreakReason,
  type AuditRecordFields,
  type AuditChainHead,
  type ChainVerification,
} from './audit-chain';
export { auditEntryFor, type TaskOutcome } from './audit-entry';
export {
  ExtractSource,
  DataExtractInput,
  DataExtractOutput,
  DataLoadInput,
  DataLoadOutput,
  DataTransferInput,
  DataTransferOutput,
  type DataExtractInputT,
  type DataExtractOutputT,
  type DataLoadInputT,
  type DataLoadOutputT,
  type DataTransferInputT,
  type DataTransferOutputT,
} from './data-operations';
export {
  SiteHttpReadInput,
  SiteHttpReadOutput,
  SiteHttpWriteInput,
  SiteHttpWriteOutput,
  PolicyDescribeInput,
  PolicyDescribeOutput,
  describedWritable,
  type SiteHttpReadInputT,
  type SiteHttpReadOutputT,
  type SiteHttpWriteInputT,
  type SiteHttpWriteOutputT,
  type PolicyDescribeOutputT,
} from './http-operations';
export {
  BUFFER_ROUTES_PREFIX,
  BUFFER_CHUNK_CONTENT_TYPE,
  BufferHeader,
  bufferPaths,
  BufferObjectId,
  BUFFER_OBJECT_ID_PATTERN,
  BufferGrant,
  BufferCommitBody,
  BufferSchemaBody,
  BufferChunkInfo,
  BufferCommitted,
  BufferManifest,
} from './buffer-http';
export { Dialect, DIALECTS, SqlIdentifier, TableRef, tableLabel, tableLabelOf } from './database-names';
export {
  parseCommand,
  answerHelpOrVersion,
  runSubCommand,
  subCommandUsage,
  type CommandSpec,
  type CommandOutput,
  type ParsedCommand,
  type ParsedValues,
  type SubCommand,
} from './command-line';
export {
  AGENT_CHALLENGE_PATH,
  AGENT_ENROL_PATH,
  AgentProofHeader,
  ProofPurpose,
  AgentChallenge,
  AgentEnrolment,
  proofMessage,
  gatewayAudience,
  generateAgentKeyPair,
  publicKeyOf,
  signProof,
  verifyProof,
  publicKeyFingerprint,
  signBytes,
  verifyBytes,
  type ProofInput,
  type AgentKeyPair,
} from './agent-proof';
export {
  AuditCheckpoint,
  AuditCheckpointScope,
  checkpointMessage,
  signCheckpoint,
  verifyCheckpoints,
  type CheckpointSubject,
} from './audit-checkpoint';
export { ensurePrivateDir, checkPrivateFile, PrivatePathError } from './private-files';
