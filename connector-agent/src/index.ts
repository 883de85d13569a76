export { Agent, AGENT_VERSION, type AgentOptions, type StopReason } from './agent';
export { createAgent, AGENT_REDACT_PATHS } from './create-agent';
export { parseAgentConfig, loadAgentConfig, AgentConfig, AgentConfigError, type AgentConfigInput } from './config';
export { backoffDelay } from './backoff';
export {
  createGatewayNetwork,
  honouringRetryAfter,
  parseNoProxy,
  proxyFor,
  retryAfterMs,
  ProxyConfigError,
  ProxyRefusedError,
  RETRY_AFTER_MAX_MS,
  type GatewayNetwork,
} from './net';
export {
  OperationError,
  type OperationTable,
  type OperationHandler,
  type OperationContext,
} from './operations/operation';
export { checkReadOnlySql, type SqlCheckResult } from './sql-guard';
export { openAuditLog, verifyAuditFile, type AuditLog } from './audit/audit-log';
export { loadSitePolicy, SitePolicyFile, type SitePolicy } from './policy/site-policy';
// For the end-to-end tests and benchmarks, which drive the agent as a package, never through its src/ paths.
export { runCli } from './main';
export { machineId } from './machine-id';
export { discoverSchema, type DiscoveryTarget } from './site-database/site-database';
export {
  createGatewayAuth,
  ensureIdentityKey,
  GatewayAuthError,
  IDENTITY_KEY_SECRET,
  type GatewayAuth,
} from './gateway-auth';
export {
  createApiArtifactClient,
  ApiArtifactError,
  ApiArtifactErrorCode,
  isApiArtifactError,
  type ApiArtifactClient,
  type ApiArtifactClientOptions,
  type ApiArtifactKind,
} from './api-artifacts';
export {
  PRODUCTION_RELEASE_KEYS,
  expectedSha256,
  trustedReleaseKeys,
  verifyReleaseSignature,
} from './release/release-keys';
export { AGENT_COMMIT, versionText } from './release/build-info';
