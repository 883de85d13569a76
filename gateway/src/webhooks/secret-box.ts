import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { parseBufferKeys } from '@vansales/buffer';

const INFO = 'vsc-webhook-secret:';

/**
 * Seals webhook signing secrets for the metadata store: AES-256-GCM under a key derived per tenant
 * (HKDF-SHA256 of a master key of VSC_BUFFER_KEYS, info 'vsc-webhook-secret:' + tenant), with the
 * hook and secret ids as associated data, so a sealed secret moved to another hook or tenant does
 * not open. The first master key seals; the others still open, so the keys rotate as the buffer's do.
 */
export function createSecretBox(masterKeySpec: string) {
  const { currentKeyId, keys } = parseBufferKeys(masterKeySpec);
  const derived = new Map<string, Buffer>();
  const keyFor = (keyId: string, tenantId: string): Buffer => {
    const cacheKey = `${keyId}\0${tenantId}`;
    let key = derived.get(cacheKey);
    if (!key) {
      const master = keys.get(keyId);
      if (!master)
        throw new Error(`webhook secret sealed under master key ${keyId}, which VSC_BUFFER_KEYS no longer has`);
      key = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), INFO + tenantId, 32));
      derived.set(cacheKey, key);
    }
    return key;
  };
  const aad = (tenantId: string, hookId: string, secretId: string) =>
    Buffer.from(`${tenantId}\0${hookId}\0${secretId}`);
  return {
    seal(tenantId: string, hookId: string, secretId: string, secret: string): { keyId: string; sealed: Buffer } {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', keyFor(currentKeyId, tenantId), nonce);
      cipher.setAAD(aad(tenantId, hookId, secretId));
      const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      return { keyId: currentKeyId, sealed: Buffer.concat([nonce, body, cipher.getAuthTag()]) };
    },
    open(tenantId: string, hookId: string, secretId: string, keyId: string, sealed: Buffer): string {
      const decipher = createDecipheriv('aes-256-gcm', keyFor(keyId, tenantId), sealed.subarray(0, 12));
      decipher.setAAD(aad(tenantId, hookId, secretId));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]).toString(
        'utf8',
      );
    },
  };
}
export type SecretBox = ReturnType<typeof createSecretBox>;
