import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { BufferError, BufferErrorCode } from '../buffer-error';
import type { BufferKeyring } from '../keyring';
import { open, seal } from './aead';

/**
 * header.json, written when an object is created: who owns it, when it expires, and its data key
 * wrapped by the tenant key. The wrap's associated data is every other field, so changing the
 * owner, the object id or the expiry makes the key fail to unwrap: the header needs no other seal.
 */
const HeaderFile = z.object({
  v: z.literal(1),
  tenantId: z.string(),
  objectId: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  keyId: z.string(),
  wrappedKey: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/),
});
type HeaderFile = z.infer<typeof HeaderFile>;

export interface OpenedHeader {
  tenantId: string;
  objectId: string;
  createdAtMs: number;
  expiresAtMs: number;
  keyId: string;
  dataKey: Buffer;
  /** The stored bytes, exactly: the manifest's associated data. */
  bytes: Buffer;
}

const wrapAad = (h: Omit<HeaderFile, 'wrappedKey'>) =>
  Buffer.from(
    `vsc-buffer/1 header\n${JSON.stringify([h.v, h.tenantId, h.objectId, h.createdAt, h.expiresAt, h.keyId])}`,
  );

export function createHeader(
  keyring: BufferKeyring,
  tenantId: string,
  objectId: string,
  createdAtMs: number,
  expiresAtMs: number,
): OpenedHeader {
  const dataKey = randomBytes(32);
  const keyId = keyring.currentKeyId;
  const fields = {
    v: 1 as const,
    tenantId,
    objectId,
    createdAt: new Date(createdAtMs).toISOString(),
    expiresAt: new Date(expiresAtMs).toISOString(),
    keyId,
  };
  const wrappedKey = seal(keyring.tenantKey(keyId, tenantId)!, dataKey, wrapAad(fields)).toString('base64');
  const bytes = Buffer.from(JSON.stringify({ ...fields, wrappedKey } satisfies HeaderFile));
  return { tenantId, objectId, createdAtMs, expiresAtMs, keyId, dataKey, bytes };
}

const tampered = (objectId: string) =>
  new BufferError(
    BufferErrorCode.tampered,
    `the header of buffer object ${objectId} failed its integrity check (changed in the store, or copied from another object); it cannot be read, write it again`,
    { objectId },
  );

/** Expiry as stored, unauthenticated: only the purge uses it (a wrong value only purges early or late). */
export function headerExpiry(bytes: Buffer): number | undefined {
  try {
    const parsed = HeaderFile.safeParse(JSON.parse(bytes.toString('utf8')));
    const ms = parsed.success ? Date.parse(parsed.data.expiresAt) : NaN;
    return Number.isFinite(ms) ? ms : undefined;
  } catch {
    return undefined;
  }
}

/** Authenticates a stored header for the tenant asking and unwraps the object's data key. */
export function openHeader(keyring: BufferKeyring, tenantId: string, objectId: string, bytes: Buffer): OpenedHeader {
  let file: HeaderFile;
  try {
    const parsed = HeaderFile.safeParse(JSON.parse(bytes.toString('utf8')));
    if (!parsed.success) throw tampered(objectId);
    file = parsed.data;
  } catch {
    throw tampered(objectId);
  }
  if (file.tenantId !== tenantId) {
    throw new BufferError(BufferErrorCode.wrongTenant, `buffer object ${objectId} belongs to another tenant`, {
      objectId,
    });
  }
  if (file.objectId !== objectId) throw tampered(objectId);
  const tenantKey = keyring.tenantKey(file.keyId, tenantId);
  if (!tenantKey) {
    throw new BufferError(
      BufferErrorCode.keyUnavailable,
      `buffer object ${objectId} is encrypted under master key ${JSON.stringify(file.keyId)}, which is not in VSC_BUFFER_KEYS (configured: ${keyring.keyIds.join(', ')}); add it back to read the object`,
      { objectId, keyId: file.keyId },
    );
  }
  const { wrappedKey, ...fields } = file;
  const dataKey = open(tenantKey, Buffer.from(wrappedKey, 'base64'), wrapAad(fields));
  const createdAtMs = Date.parse(file.createdAt);
  const expiresAtMs = Date.parse(file.expiresAt);
  if (!dataKey || dataKey.length !== 32 || !Number.isFinite(createdAtMs) || !Number.isFinite(expiresAtMs))
    throw tampered(objectId);
  return { tenantId, objectId, createdAtMs, expiresAtMs, keyId: file.keyId, dataKey, bytes };
}
