export { Supervisor } from './supervisor';
export { serviceContext } from './context';
export { assertPortFree, isPortOpen, waitFor } from './ports';
export { acquireLock } from './lock';
export { ensureAptPackages } from './install';
export { InfraError, InfraErrorCode } from './errors';
export type { ServiceSpec, ServiceContext } from './service';
export { admin, defaultAdminTarget, type AdminTarget } from './commands/admin';
export { ensurePythonTool, pythonToolDir, SCHEMATHESIS, type PythonTool } from './python-tools';
