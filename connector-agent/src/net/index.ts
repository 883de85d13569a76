export { parseNoProxy, type NoProxy } from './no-proxy';
export { honouringRetryAfter, retryAfterMs, RETRY_AFTER_MAX_MS } from './retry-after';
export {
  createGatewayNetwork,
  proxyFor,
  redactedProxy,
  ProxyConfigError,
  ProxyRefusedError,
  type GatewayNetwork,
  type ProxySetting,
} from './gateway-network';
