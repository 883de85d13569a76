export { SearchAttribute, SEARCH_ATTRIBUTE_NAMES } from './search-attributes';
export { ensureNamespace, type EnsureResult } from './ensure-namespace';
export { TemporalConfig, payloadCompatibility } from './config';
export {
  EncryptionCodec,
  vansalesDataConverter,
  failureConverterPath,
  parsePayloadKeys,
  newPayloadKeySpec,
  PayloadKeyError,
  ENCRYPTED_ENCODING,
  type PayloadCompatibility,
} from './payload-codec';
export { connectTemporalClient } from './client-connection';
export {
  TemporalConnectionEnv,
  TemporalConnectionError,
  temporalConnectionOptions,
  temporalConnectionIssues,
  refineTemporalConnection,
  withTemporalProfile,
  describeTemporalConnection,
  type TemporalConnectionOptions,
} from './connection-settings';
