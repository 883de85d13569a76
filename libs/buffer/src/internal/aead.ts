import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const SEAL_OVERHEAD = IV_BYTES + TAG_BYTES;
// Encryption goes through the cipher in slices written straight into the stored chunk's buffer,
// so a chunk costs its plaintext plus its ciphertext in memory, not three copies.
const SLICE = 1024 * 1024;

/** AES-256-GCM with a fresh random IV: writes iv | ciphertext | tag into `out` at `at`. */
export function sealInto(key: Buffer, plaintext: Uint8Array, aad: Buffer, out: Buffer, at: number): void {
  const iv = randomBytes(IV_BYTES);
  iv.copy(out, at);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  let pos = at + IV_BYTES;
  for (let i = 0; i < plaintext.length; i += SLICE) {
    pos += cipher.update(plaintext.subarray(i, i + SLICE)).copy(out, pos);
  }
  pos += cipher.final().copy(out, pos);
  cipher.getAuthTag().copy(out, pos);
}

export function seal(key: Buffer, plaintext: Uint8Array, aad: Buffer): Buffer {
  const out = Buffer.allocUnsafe(plaintext.length + SEAL_OVERHEAD);
  sealInto(key, plaintext, aad, out, 0);
  return out;
}

/** Opens iv | ciphertext | tag; undefined when the tag does not verify (changed bytes, wrong key or AAD). */
export function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer | undefined {
  if (sealed.length < SEAL_OVERHEAD) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    // One update: its output is the plaintext buffer itself (GCM's final adds nothing), no copies.
    const plain = decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES));
    const rest = decipher.final();
    return rest.length === 0 ? plain : Buffer.concat([plain, rest]);
  } catch {
    return undefined;
  }
}
