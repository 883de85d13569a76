import type { z } from 'zod';
import { MAX_FRAME_BYTES } from './frames';

export type ParseResult<T> =
  { ok: true; frame: T } | { ok: false; code: 'frame-too-large' | 'malformed-json' | 'invalid-frame'; message: string };

/**
 * Parses one text frame against a schema. Never throws: a bad frame is answered
 * with a protocol-error frame by the caller, and the connection keeps serving.
 */
export function parseFrame<S extends z.ZodType>(
  schema: S,
  raw: string | Buffer,
  maxBytes = MAX_FRAME_BYTES,
): ParseResult<z.infer<S>> {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw, 'utf8') : raw.byteLength;
  if (size > maxBytes) {
    return { ok: false, code: 'frame-too-large', message: `frame of ${size} bytes exceeds the ${maxBytes}-byte limit` };
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return { ok: false, code: 'malformed-json', message: 'frame is not valid JSON' };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first?.path.length ? ` at ${first.path.join('.')}` : '';
    return { ok: false, code: 'invalid-frame', message: `invalid frame${where}: ${first?.message ?? 'unknown'}` };
  }
  return { ok: true, frame: parsed.data };
}
