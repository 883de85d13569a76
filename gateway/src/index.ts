export { createGateway, type Gateway, type GatewayServices } from './gateway';
export { GatewayConfig, loadGatewayConfig } from './config';
export { createLogger, REDACT_PATHS, type Logger } from './logger';
export { GatewayError, GatewayErrorCode, HTTP_STATUS, BUFFER_HTTP_STATUS } from './errors';
export { createBufferAccess, type BufferGrantRequest, type GrantBufferAccess } from './buffer-access';
export { ensureBufferPurgeSchedule, BUFFER_PURGE_SCHEDULE_ID } from './buffer-purge-schedule';
export type { RunGate, WebhookService } from './services/webhook-service';
export {
  checkRunAllowed,
  flagsApplying,
  describeFlag,
  type RunTarget,
  type ControlFlagService,
} from './services/control-flags';
export type { DefinitionRunService } from './services/definition-runs';
export { definitionScheduleId, OVERLAP_POLICY, type DefinitionSchedules } from './services/definition-schedules';
export { openapiDocument } from './openapi-document';
export { ROUTE_ACCESS, ROLE_PERMISSIONS, ROLES, Permission, roleAllows, type Access } from './http/access';
