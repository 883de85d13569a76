export { SearchAttribute, SEARCH_ATTRIBUTE_NAMES } from './search-attributes';
export { ensureNamespace, type EnsureResult } from './ensure-namespace';
export { TemporalConfig } from './config';
export {
  EncryptionCodec,
  vansalesDataConverter,
  failureConverterPath,
  parsePayloadKeys,
  newPayloadKeySpec,
  PayloadKeyError,
  ENCRYPTED_ENCODING,
} from './payload-codec';
export { connectTemporalClient } from './client-connection';
