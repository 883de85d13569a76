import { BufferError, BufferErrorCode } from '../buffer-error';
import { open, seal } from './aead';

/**
 * schema.json: the writer's description of the rows, published before the first chunk so a reader
 * following the object can prepare its destination. Sealed like the manifest (the object's data
 * key, the stored header bytes as associated data); the manifest still has the last word, and a
 * follower checks the two agree.
 */
const aad = (headerBytes: Buffer) => Buffer.concat([Buffer.from('vsc-buffer/1 schema\n'), headerBytes]);

export function sealSchema(dataKey: Buffer, headerBytes: Buffer, schema: unknown): Buffer {
  return seal(dataKey, Buffer.from(JSON.stringify({ v: 1, schema })), aad(headerBytes));
}

export function openSchema(dataKey: Buffer, headerBytes: Buffer, objectId: string, bytes: Buffer): unknown {
  const plain = open(dataKey, bytes, aad(headerBytes));
  const body = plain ? (JSON.parse(plain.toString('utf8')) as { v?: unknown; schema?: unknown }) : undefined;
  if (!body || body.v !== 1) {
    throw new BufferError(
      BufferErrorCode.tampered,
      `the published schema of buffer object ${objectId} failed its integrity check (changed in the store); write the object again`,
      { objectId },
    );
  }
  return body.schema;
}
