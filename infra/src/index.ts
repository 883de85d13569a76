export { Supervisor } from './supervisor';
export { serviceContext } from './context';
export { assertPortFree, isPortOpen, waitFor } from './ports';
export { acquireLock } from './lock';
export {
  ensureAptPackages,
  ensureLocalGoBinary,
  ensurePrometheus,
  ensureProxyTestTools,
  ensureTestTools,
  OASDIFF,
  OTEL_RECEIVER,
  TEMPORAL_TLS_SERVER,
} from './install';
export { InfraError, InfraErrorCode } from './errors';
export type { ServiceSpec, ServiceContext } from './service';
export { admin, defaultAdminTarget, type AdminTarget } from './commands/admin';
export { ensurePythonTool, pythonToolDir, SCHEMATHESIS, type PythonTool } from './python-tools';
export { loadOrCreateSecrets, type Secrets } from './secrets';
export type { PortMap } from './service';
export { temporalService, temporalAddress, TEMPORAL_NAMESPACE } from './services/temporal';
export { postgresService, postgresUrl } from './services/postgres';
export { minioService, minioEndpoint } from './services/minio';
export { platformProcesses, registryPublicKey, type PlatformOptions } from './services/platform';
export { metadataUrl, UP_METADATA_STORE, CLOUD_WORKER_GRANTS, type MetadataStore } from './services/metadata-store';
export {
  CHROMIUM_ARGS,
  consoleCacheDir,
  consoleSourceHash,
  ensureChromium,
  ensureConsoleBuild,
  serveConsoleBuild,
} from './console-build';
export { consoleProcess, consoleUrl } from './services/platform';
export { portsFor } from './ports-config';
