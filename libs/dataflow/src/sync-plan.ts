// What a sync step's plan needs, apart from the database drivers: the gateways run the plan (they
// hold the metadata store) and must not compile in mysql2 or pg's streaming modules to do it.
export { decideKey, keyText, rowHash, type ConflictPolicy, type RowVersion } from './sync/sync-decision';
export { comparableValue } from './values/canonical-values';
export { parseObjectSchema, type ObjectSchema } from './pipeline/object-schema';
export { decodeChunk, encodeChunk } from './chunk-codec';
