export { Supervisor } from './supervisor';
export { serviceContext } from './context';
export { assertPortFree, isPortOpen, waitFor } from './ports';
export { acquireLock } from './lock';
export { ensureAptPackages, ensureLocalGoBinary, TEMPORAL_TLS_SERVER } from './install';
export { InfraError, InfraErrorCode } from './errors';
export type { ServiceSpec, ServiceContext } from './service';
export { admin, defaultAdminTarget, type AdminTarget } from './commands/admin';
