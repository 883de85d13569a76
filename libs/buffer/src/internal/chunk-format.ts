import { createHash } from 'node:crypto';
import { BufferError, BufferErrorCode } from '../buffer-error';
import { open, SEAL_OVERHEAD, sealInto } from './aead';

/**
 * A stored chunk: `VSB1` | sealed meta (rows, byte count, SHA-256 of the plaintext) | sealed body.
 * Both seals use the object's data key with associated data naming tenant, object and index, so a
 * chunk moved to another position or object does not open. The meta travels in the chunk itself
 * (one atomic write) and is small and first, so a commit reads only the first bytes of each chunk.
 */
const MAGIC = Buffer.from('VSB1');
const META_PLAIN = 8 + 8 + 32;
export const CHUNK_PREAMBLE_BYTES = MAGIC.length + META_PLAIN + SEAL_OVERHEAD;
export const CHUNK_OVERHEAD = CHUNK_PREAMBLE_BYTES + SEAL_OVERHEAD;

export interface ChunkPosition {
  tenantId: string;
  objectId: string;
  index: number;
}

export interface ChunkMeta {
  rows: number;
  bytes: number;
  sha256: string;
}

const aad = (kind: 'chunk-meta' | 'chunk', p: ChunkPosition) =>
  Buffer.from(`vsc-buffer/1 ${kind}\n${p.tenantId}\n${p.objectId}\n${p.index}`);

export function sealChunk(
  dataKey: Buffer,
  position: ChunkPosition,
  plaintext: Uint8Array,
  rows: number,
): { file: Buffer; meta: ChunkMeta } {
  const sha = createHash('sha256').update(plaintext).digest();
  const metaPlain = Buffer.alloc(META_PLAIN);
  metaPlain.writeBigUInt64BE(BigInt(rows), 0);
  metaPlain.writeBigUInt64BE(BigInt(plaintext.length), 8);
  sha.copy(metaPlain, 16);
  const file = Buffer.allocUnsafe(CHUNK_OVERHEAD + plaintext.length);
  MAGIC.copy(file, 0);
  sealInto(dataKey, metaPlain, aad('chunk-meta', position), file, MAGIC.length);
  sealInto(dataKey, plaintext, aad('chunk', position), file, CHUNK_PREAMBLE_BYTES);
  return { file, meta: { rows, bytes: plaintext.length, sha256: sha.toString('hex') } };
}

const tampered = (p: ChunkPosition, why: string) =>
  new BufferError(
    BufferErrorCode.tampered,
    `chunk ${p.index} of buffer object ${p.objectId} ${why}; the stored bytes were changed, write the object again`,
    {
      objectId: p.objectId,
      index: p.index,
    },
  );
const truncated = (p: ChunkPosition, why: string) =>
  new BufferError(
    BufferErrorCode.truncated,
    `chunk ${p.index} of buffer object ${p.objectId} ${why}; write the object again`,
    { objectId: p.objectId, index: p.index },
  );

/** Opens the meta in a chunk's first CHUNK_PREAMBLE_BYTES. */
export function decodeChunkMeta(dataKey: Buffer, position: ChunkPosition, preamble: Buffer): ChunkMeta {
  if (preamble.length < CHUNK_PREAMBLE_BYTES) throw truncated(position, 'is shorter than its own header');
  if (!preamble.subarray(0, MAGIC.length).equals(MAGIC)) throw tampered(position, 'is not in the buffer chunk format');
  const plain = open(dataKey, preamble.subarray(MAGIC.length, CHUNK_PREAMBLE_BYTES), aad('chunk-meta', position));
  if (!plain) throw tampered(position, 'failed its integrity check');
  const rows = plain.readBigUInt64BE(0);
  const bytes = plain.readBigUInt64BE(8);
  return { rows: Number(rows), bytes: Number(bytes), sha256: plain.subarray(16).toString('hex') };
}

export const storedChunkSize = (plaintextBytes: number) => plaintextBytes + CHUNK_OVERHEAD;

/** Decrypts a whole stored chunk and checks it against what the manifest recorded. */
export function openSealedChunk(dataKey: Buffer, position: ChunkPosition, file: Buffer, expected: ChunkMeta): Buffer {
  // Who the chunk is comes first (a chunk moved here is TAMPERED whatever its size), then its length.
  const meta = decodeChunkMeta(dataKey, position, file.subarray(0, CHUNK_PREAMBLE_BYTES));
  if (meta.bytes !== expected.bytes || meta.rows !== expected.rows || meta.sha256 !== expected.sha256) {
    throw tampered(position, 'is not the chunk the manifest recorded (replaced by another write)');
  }
  const want = storedChunkSize(expected.bytes);
  if (file.length < want) throw truncated(position, `is ${file.length} bytes in the store, ${want} expected`);
  if (file.length > want) throw tampered(position, `is ${file.length} bytes in the store, ${want} expected`);
  const plain = open(dataKey, file.subarray(CHUNK_PREAMBLE_BYTES), aad('chunk', position));
  if (!plain) throw tampered(position, 'failed its integrity check');
  if (createHash('sha256').update(plain).digest('hex') !== expected.sha256)
    throw tampered(position, 'does not match its recorded SHA-256');
  return plain;
}
