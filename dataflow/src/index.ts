// Public surface of @vansales/dataflow. Everything else under src/ is internal.

export { CanonicalType, ColumnSpec, type CanonicalKind } from './types/canonical-type';
export {
  DataConnectionConfig,
  type DataConnection,
  type KeysetIncremental,
  type ReadOptions,
  type ReadSource,
  type TableDescription,
  type TableInfo,
  type WriteOptions,
} from './types/data-connection';
export { openDataConnection } from './data-connection';
export { DataflowError, DataflowErrorCode, isDataflowError, type DataflowErrorDetails } from './errors';
export { mapColumns, createTableSql, type MapColumnsOptions } from './mapping/map-columns';
export { mssqlCanonicalType } from './mapping/mssql';
export { checkIdentifier, quoteIdent, quoteTable } from './identifiers';
export { encodeChunk, decodeChunk, DEFAULT_MAX_CHUNK_BYTES, type DecodeChunkOptions } from './chunk-codec';
export { tableChecksum } from './checksum';
export { comparableValue, type BinaryValue } from './values/canonical-values';
// Chunk loops shared by the agent's operations and the cloud activities.
export { chunkedExtract, type ChunkSink, type ChunkedExtractPlan, type ExtractPosition } from './pipeline/chunked-extract';
export { chunkedLoad, type ChunkSource, type ChunkedLoadPlan } from './pipeline/chunked-load';
export { planTableRead, ReadPlanError, type TableReadPlan, type TableReadRequest } from './pipeline/table-read-plan';
