/**
 * Where buffer objects live: an S3 bucket or a local folder, behind one small interface.
 * Keys are '/'-separated segments of letters, digits, '.', '_' and '-' (never '.' or '..').
 * Values are whole blobs (one chunk at most, so memory stays bounded by the chunk size).
 */
export interface BlobInfo {
  key: string;
  size: number;
  lastModified: Date;
}

export interface BlobStore {
  readonly kind: 'local' | 's3';
  /** Writes atomically: a reader sees the old value or the new one, never a part. */
  put(key: string, data: Buffer): Promise<void>;
  /** Writes only when the key is free; false when something is already there. */
  putIfAbsent(key: string, data: Buffer): Promise<boolean>;
  /** The blob, or `length` bytes of it from `offset` (fewer at its end); undefined when absent. */
  get(key: string, range?: { offset: number; length: number }): Promise<Buffer | undefined>;
  head(key: string): Promise<BlobInfo | undefined>;
  /** Every blob under a prefix. All keys of one folder come out together (purge relies on it). */
  list(prefix: string): AsyncIterable<BlobInfo>;
  /** Absent keys are not an error. */
  delete(key: string): Promise<void>;
  deleteMany(keys: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

const SEGMENT = /^[A-Za-z0-9._-]{1,255}$/;

/** Refuses any key that could name something outside the store's root. */
export function assertBlobKey(key: string): string[] {
  const segments = key.split('/');
  if (segments.length === 0 || segments.some((s) => !SEGMENT.test(s) || s === '.' || s === '..')) {
    throw new Error(`invalid blob key ${JSON.stringify(key)}`);
  }
  return segments;
}
