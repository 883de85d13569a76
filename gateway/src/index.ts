export { createGateway, type Gateway } from './gateway';
export { GatewayConfig, loadGatewayConfig } from './config';
export { createLogger, REDACT_PATHS, type Logger } from './logger';
export { GatewayError, GatewayErrorCode, HTTP_STATUS } from './errors';
