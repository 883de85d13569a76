// The public surface of @vansales/buffer. Formats and helpers under internal/ are not exported.
export { BufferError, BufferErrorCode, isBufferError } from './buffer-error';
export {
  DataBuffer,
  MAX_CHUNK_BYTES,
  MAX_DESCRIPTION_BYTES,
  type DataBufferOptions,
  type BufferObjectInfo,
  type CommitInput,
  type PurgeResult,
  type BufferManifest,
  type ChunkInfo,
} from './data-buffer';
export type { BlobStore, BlobInfo } from './blob-store';
export { ObjectFollower, type FollowOptions, type FollowedChunk } from './object-follower';
export { createLocalFolderStore } from './local-folder-store';
export { createS3Store, LIFECYCLE_RULE_ID, type S3StoreOptions, type S3BlobStore } from './s3-store';
export { BufferKeyring, parseBufferKeys, newBufferKeySpec } from './keyring';
export {
  issueBufferToken,
  verifyBufferToken,
  assertTokenCovers,
  parseTokenSecret,
  BufferTokenScope,
  MAX_TOKEN_TTL_SECONDS,
  type BufferTokenClaims,
} from './buffer-token';
export {
  BufferSettings,
  BufferConfig,
  refineBufferSettings,
  loadBufferConfig,
  openDataBuffer,
  openBufferStore,
} from './config';
export { newObjectId, OBJECT_ID_PATTERN, TENANT_ID_PATTERN } from './ids';
export { BUFFER_PREFIX, MAX_CHUNKS } from './internal/layout';
