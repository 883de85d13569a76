import { z } from 'zod';
import { BufferError, BufferErrorCode } from '../buffer-error';
import { open, seal } from './aead';

/**
 * manifest.json: the whole manifest sealed with the object's data key, its associated data the
 * stored header bytes. So the row counts, checksums and schema are confidential, and a manifest
 * edited, replayed from another object, or paired with an edited header does not open.
 */
export const ChunkInfo = z.object({
  index: z.number().int().min(0),
  rows: z.number().int().min(0),
  bytes: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ChunkInfo = z.infer<typeof ChunkInfo>;

const ManifestBody = z.object({
  v: z.literal(1),
  tenantId: z.string(),
  objectId: z.string(),
  schema: z.unknown(),
  rowCount: z.number().int().min(0),
  chunks: z.array(ChunkInfo),
  createdAt: z.string(),
  committedAt: z.string(),
  expiresAt: z.string(),
  meta: z.unknown().optional(),
});
type ManifestBody = z.infer<typeof ManifestBody>;

/** What a committed object is: the buffer's answer to readManifest and commit. */
export interface BufferManifest {
  tenantId: string;
  objectId: string;
  /** Opaque to the buffer: what the writer gave at commit. */
  schema: unknown;
  rowCount: number;
  chunks: ChunkInfo[];
  createdAt: string;
  committedAt: string;
  expiresAt: string;
  meta?: unknown;
}

const ManifestFile = z.object({ v: z.literal(1), sealed: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/) });

const aad = (headerBytes: Buffer) => Buffer.concat([Buffer.from('vsc-buffer/1 manifest\n'), headerBytes]);

export function sealManifest(dataKey: Buffer, headerBytes: Buffer, manifest: BufferManifest): Buffer {
  const body: ManifestBody = { v: 1, ...manifest };
  const sealed = seal(dataKey, Buffer.from(JSON.stringify(body)), aad(headerBytes));
  return Buffer.from(JSON.stringify({ v: 1, sealed: sealed.toString('base64') }));
}

export function openManifest(
  dataKey: Buffer,
  headerBytes: Buffer,
  tenantId: string,
  objectId: string,
  bytes: Buffer,
): BufferManifest {
  const tampered = () =>
    new BufferError(
      BufferErrorCode.tampered,
      `the manifest of buffer object ${objectId} failed its integrity check (changed in the store); write the object again`,
      { objectId },
    );
  let sealed: Buffer;
  try {
    const file = ManifestFile.safeParse(JSON.parse(bytes.toString('utf8')));
    if (!file.success) throw tampered();
    sealed = Buffer.from(file.data.sealed, 'base64');
  } catch {
    throw tampered();
  }
  const plain = open(dataKey, sealed, aad(headerBytes));
  if (!plain) throw tampered();
  const body = ManifestBody.safeParse(JSON.parse(plain.toString('utf8')));
  if (
    !body.success ||
    body.data.tenantId !== tenantId ||
    body.data.objectId !== objectId ||
    body.data.chunks.some((c, i) => c.index !== i)
  )
    throw tampered();
  const { v: _v, ...manifest } = body.data;
  return manifest;
}
