/**
 * Thrown by value encoders and decoders, which know neither table, column nor row; the reader
 * or writer loop that called them turns it into a BAD_VALUE DataflowError naming all three.
 */
export class BadValue extends Error {}

export function describeValue(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
