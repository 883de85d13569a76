import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { AuthError, AuthErrorCode } from './auth-error';

/** What a wrapped data key is bound to: a KMS takes it as its encryption context. */
export interface WrapContext {
  tenantId: string;
  name: string;
}

/**
 * Wraps the per-secret data keys of the credential store. The local implementation holds master
 * keys in process; a KMS (encrypt/decrypt with an encryption context) or Vault transit backend
 * implements the same three members, and the store stays as it is.
 */
export interface KeyWrapper {
  /** The key that wraps new data keys. */
  readonly currentKeyId: string;
  wrap(dataKey: Buffer, context: WrapContext): Promise<{ keyId: string; wrapped: Buffer }>;
  /** Throws AuthError(undecryptable) when the key is unknown or the context differs from the wrap's. */
  unwrap(wrapped: Buffer, keyId: string, context: WrapContext): Promise<Buffer>;
}

const NONCE = 12;
const TAG = 16;
const INFO = 'vsc-credential-kek:';

/** AES-256-GCM: nonce | ciphertext | tag. */
export function sealBytes(key: Buffer, plain: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/** undefined when the tag does not verify (another key, another associated data, changed bytes). */
export function openBytes(key: Buffer, sealed: Buffer, aad: Buffer): Buffer | undefined {
  if (sealed.length < NONCE + TAG) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE));
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    return Buffer.concat([decipher.update(sealed.subarray(NONCE, sealed.length - TAG)), decipher.final()]);
  } catch {
    return undefined;
  }
}

/** Length-prefixed, so (tenant "a.b", name "c") and (tenant "a", name "b.c") never share associated data. */
export function contextBytes(purpose: string, context: WrapContext): Buffer {
  const parts = [purpose, context.tenantId, context.name].map((p) => Buffer.from(p, 'utf8'));
  return Buffer.concat(
    parts.flatMap((p) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(p.length);
      return [len, p];
    }),
  );
}

/**
 * Master keys held by this process (from VSC_CREDENTIALS_KEYS or its 0600 file): each tenant gets
 * its own key-encryption key, HKDF-SHA256(master, info 'vsc-credential-kek:' + tenant), which wraps
 * that tenant's data keys with (tenant, name) as associated data. The first master key wraps; the
 * others still unwrap until `rotateMasterKey` has rewrapped every row.
 */
export function createLocalKeyWrapper(masterKeys: {
  currentKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
}): KeyWrapper {
  const derived = new Map<string, Buffer>();
  const kek = (keyId: string, tenantId: string): Buffer | undefined => {
    const cacheKey = `${keyId}\0${tenantId}`;
    let key = derived.get(cacheKey);
    if (!key) {
      const master = masterKeys.keys.get(keyId);
      if (!master) return undefined;
      key = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), INFO + tenantId, 32));
      if (derived.size >= 10_000) derived.clear();
      derived.set(cacheKey, key);
    }
    return key;
  };
  return {
    currentKeyId: masterKeys.currentKeyId,
    async wrap(dataKey, context) {
      const key = kek(masterKeys.currentKeyId, context.tenantId)!;
      return { keyId: masterKeys.currentKeyId, wrapped: sealBytes(key, dataKey, contextBytes('wrap', context)) };
    },
    async unwrap(wrapped, keyId, context) {
      const key = kek(keyId, context.tenantId);
      if (!key)
        throw new AuthError(
          AuthErrorCode.undecryptable,
          `credential ${context.name} of tenant ${context.tenantId} is wrapped under master key ${keyId}, which VSC_CREDENTIALS_KEYS no longer has; add it back`,
        );
      const dataKey = openBytes(key, wrapped, contextBytes('wrap', context));
      if (!dataKey)
        throw new AuthError(
          AuthErrorCode.undecryptable,
          `credential ${context.name} of tenant ${context.tenantId} does not open: it was not stored under this tenant and name, or it was changed`,
        );
      return dataKey;
    },
  };
}
