// Public surface of @vansales/dataflow. Everything else under src/ is internal.

export { CanonicalType, ColumnSpec, type CanonicalKind } from './types/canonical-type';
export {
  DataConnectionConfig,
  type BoundedQueryOptions,
  type BoundedQueryResult,
  type CatalogQuery,
  type DataConnection,
  type KeysetIncremental,
  type LineBatch,
  type NotificationListener,
  type ReadOptions,
  type ReadSource,
  type TableDescription,
  type TableInfo,
  type WriteOptions,
} from './types/data-connection';
export { openDataConnection } from './data-connection';
export { DataflowError, DataflowErrorCode, isDataflowError, normaliseError, type DataflowErrorDetails } from './errors';
export { mapColumns, createTableSql, type MapColumnsOptions } from './mapping/map-columns';
export { mssqlCanonicalType } from './mapping/mssql';
export { checkIdentifier, quoteIdent, quoteTable } from './identifiers';
export {
  ChunkEncoder,
  encodeChunk,
  decodeChunk,
  chunkCodec,
  chunkAsGzip,
  DEFAULT_MAX_CHUNK_BYTES,
  type DecodeChunkOptions,
} from './chunk-codec';
export { parseObjectSchema, ObjectSchema } from './pipeline/object-schema';
export { rowChecker, type RowProblem } from './values/check-values';
export { tableChecksum } from './checksum';
export { comparableValue, type BinaryValue } from './values/canonical-values';
// The one data pipeline: the agent's operations and the cloud activities are adapters over it
// (where rows come from, where chunks go, which policy applies).
export { type ExtractPosition } from './pipeline/chunked-extract';
export {
  extractTable,
  extractQuery,
  type ExtractedSchema,
  type ExtractResult,
  type ExtractTableRequest,
  type ExtractQueryRequest,
  type ObjectSink,
} from './pipeline/extract';
export { prepareDestination, assertWritable, type Destination, type DestinationRequest } from './pipeline/destination';
export {
  loadObject,
  type FollowedObject,
  type LoadObjectRequest,
  type LoadProgress,
  type StoredObject,
} from './pipeline/load-object';
export { transfer, type TransferPosition, type TransferRequest } from './pipeline/transfer';
export {
  ALLOW_ALL,
  describeRule,
  type ColumnAction,
  type ColumnRule,
  type DataPolicy,
  type NameRules,
} from './pipeline/data-policy';
export { resolveTable, type ResolvedTable } from './pipeline/resolve-table';
export { watchTable, type WatchResult, type WatchTableRequest } from './pipeline/watch';
export { failureTypeOf } from './pipeline/failure-types';
export { resumeState } from './pipeline/resume';
// HTTP steps (issue 10): one read loop and one write loop, shared by the cloud activities and the
// agent's site-API operations; each side brings its transport (egress guard, site policy).
export {
  retryAfterMs,
  sendWithRetry,
  DEFAULT_RETRY,
  type HttpRequest,
  type HttpResponse,
  type HttpSend,
  type RetryOptions,
} from './http/http-exchange';
export {
  readHttp,
  nextLink,
  type HttpPagination,
  type HttpReadPosition,
  type HttpReadRequest,
  type HttpReadResult,
  type HttpReadSink,
} from './http/http-read';
export {
  writeHttp,
  type HttpWritePosition,
  type HttpWriteRequest,
  type HttpWriteResult,
  type HttpWriteSource,
} from './http/http-write';
export { createHttpTransport, type TransportOptions } from './http/http-transport';
export {
  addressProblem,
  checkAllowlist,
  cloudEgress,
  guardedTransport,
  systemResolver,
  type CloudEgressOptions,
  type EgressResolver,
  type EgressRule,
  type EgressSettings,
  type GuardedTransportOptions,
} from './http/egress-guard';
export { urlUnder, confineTo } from './http/http-url';
export { inferColumns, recordsToRows, rowsToRecords } from './http/http-records';
// Bi-directional sync (issue 10, pattern 3.4.3): key-range checksums computed by each database,
// reads of the differing ranges only, and the per-key merge decision.
export { type KeyRange, type SyncReadPlan, type SyncTableRequest, planSyncRead } from './sync/sync-read-plan';
export { rangeChecksums, type RangeChecksum, type TableChecksumBounds } from './sync/range-checksum';
export { extractRanges, type RangeExtractRequest } from './sync/range-extract';
export { deleteObjectKeys, type DeleteKeysRequest } from './sync/delete-keys';
export {
  compareStamps,
  decideKey,
  keyText,
  rowHash,
  type ConflictPolicy,
  type RowVersion,
  type SyncAction,
  type SyncSide,
} from './sync/sync-decision';
