import { hkdfSync, randomBytes } from 'node:crypto';
import { BufferError, BufferErrorCode } from './buffer-error';

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const TENANT_INFO = 'vsc-buffer-tenant:';

/**
 * Parses `VSC_BUFFER_KEYS`: `<id>:<base64 of 32 bytes>[,<id>:<base64>…]`. The first key encrypts
 * new objects; the others only open older ones, so a master key can be rotated without losing
 * objects written under the previous one. Errors name key ids, never key material.
 */
export function parseBufferKeys(spec: string): { currentKeyId: string; keys: Map<string, Buffer> } {
  const keys = new Map<string, Buffer>();
  let currentKeyId: string | undefined;
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const colon = part.indexOf(':');
    const id = colon > 0 ? part.slice(0, colon) : '';
    const material = colon > 0 ? part.slice(colon + 1) : '';
    if (!KEY_ID.test(id) || !material)
      throw new BufferError(
        BufferErrorCode.badInput,
        'each key is <id>:<base64 of 32 bytes>, with an id of letters, digits, . _ -',
      );
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(material))
      throw new BufferError(BufferErrorCode.badInput, `key ${id} is not base64`);
    const key = Buffer.from(material, 'base64');
    if (key.length !== 32)
      throw new BufferError(
        BufferErrorCode.badInput,
        `key ${id} is ${key.length} bytes; it must be base64 of 32 random bytes`,
      );
    if (keys.has(id)) throw new BufferError(BufferErrorCode.badInput, `key id ${id} is given twice`);
    keys.set(id, key);
    currentKeyId ??= id;
  }
  if (!currentKeyId) throw new BufferError(BufferErrorCode.badInput, 'no key given');
  return { currentKeyId, keys };
}

export function newBufferKeySpec(id = 'k1'): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/**
 * Master keys and the tenant keys derived from them: HKDF-SHA256(master, info 'vsc-buffer-tenant:'
 * + tenantId). A tenant key only ever wraps that tenant's per-object data keys, so one tenant's
 * key opens nothing of another's even where the store holds both.
 */
export class BufferKeyring {
  private readonly derived = new Map<string, Buffer>();

  constructor(
    readonly currentKeyId: string,
    private readonly masterKeys: ReadonlyMap<string, Buffer>,
  ) {
    if (!masterKeys.has(currentKeyId))
      throw new BufferError(BufferErrorCode.badInput, `current key ${currentKeyId} is not among the keys`);
  }

  static fromSpec(spec: string): BufferKeyring {
    const { currentKeyId, keys } = parseBufferKeys(spec);
    return new BufferKeyring(currentKeyId, keys);
  }

  get keyIds(): string[] {
    return [...this.masterKeys.keys()];
  }

  /** The tenant key under a master key, or undefined when that master key is not configured. */
  tenantKey(keyId: string, tenantId: string): Buffer | undefined {
    const cacheKey = `${keyId}\0${tenantId}`;
    const cached = this.derived.get(cacheKey);
    if (cached) return cached;
    const master = this.masterKeys.get(keyId);
    if (!master) return undefined;
    const key = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), TENANT_INFO + tenantId, 32));
    // Bounded: a few derived keys per tenant is all a process needs.
    if (this.derived.size >= 10_000) this.derived.clear();
    this.derived.set(cacheKey, key);
    return key;
  }
}
