/**
 * Where an object's pieces live in the store: `buffer/<tenantId>/<objectId>/`, with
 * `header.json` (written at create), optionally `schema.json`, `chunk-000000.bin`… and
 * `manifest.json` (written last: the commit point). The tenant is part of every key, so an object id guessed from another tenant
 * resolves to nothing.
 */
export const BUFFER_PREFIX = 'buffer/';
export const MAX_CHUNKS = 100_000;

const CHUNK_NAME = /^chunk-(\d{6})\.bin$/;

export const objectPrefix = (tenantId: string, objectId: string) => `${BUFFER_PREFIX}${tenantId}/${objectId}/`;
export const headerKey = (tenantId: string, objectId: string) => `${objectPrefix(tenantId, objectId)}header.json`;
export const manifestKey = (tenantId: string, objectId: string) => `${objectPrefix(tenantId, objectId)}manifest.json`;
/** Written before the chunks when the writer publishes its schema early (for readers that follow the object). */
export const schemaKey = (tenantId: string, objectId: string) => `${objectPrefix(tenantId, objectId)}schema.json`;
export const chunkKey = (tenantId: string, objectId: string, index: number) =>
  `${objectPrefix(tenantId, objectId)}chunk-${String(index).padStart(6, '0')}.bin`;

/** The chunk index a key names, or undefined for any other file of the object. */
export function chunkIndexOf(key: string): number | undefined {
  const match = CHUNK_NAME.exec(key.slice(key.lastIndexOf('/') + 1));
  return match ? Number(match[1]) : undefined;
}

/** `buffer/<tenant>/<object>/` of any key in the layout, or undefined for a stray key. */
export function objectPrefixOf(key: string): string | undefined {
  if (!key.startsWith(BUFFER_PREFIX)) return undefined;
  const parts = key.slice(BUFFER_PREFIX.length).split('/');
  return parts.length >= 3 ? `${BUFFER_PREFIX}${parts[0]}/${parts[1]}/` : undefined;
}
