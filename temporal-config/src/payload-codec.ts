import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID_FIELD = 'encryption-key-id';
const text = new TextEncoder();
const untext = new TextDecoder();

export class PayloadKeyError extends Error {
  override name = 'PayloadKeyError';
}

/**
 * Parses `VSC_PAYLOAD_KEYS`: `<id>:<base64 of 32 bytes>[,<id>:<base64>…]`. The first key encrypts;
 * the others only decrypt, so keys can be rotated without losing old histories.
 */
export function parsePayloadKeys(spec: string): { currentKeyId: string; keys: Map<string, Buffer> } {
  const keys = new Map<string, Buffer>();
  let currentKeyId: string | undefined;
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [id, material] = part.split(':');
    if (!id || !material || !/^[A-Za-z0-9._-]{1,64}$/.test(id))
      throw new PayloadKeyError('each key is <id>:<base64>, with an id of letters, digits, . _ -');
    const key = Buffer.from(material, 'base64');
    if (key.length !== 32)
      throw new PayloadKeyError(`key ${id} is ${key.length} bytes; AES-256 needs 32 (base64 of 32 random bytes)`);
    keys.set(id, key);
    currentKeyId ??= id;
  }
  if (!currentKeyId) throw new PayloadKeyError('no key given');
  return { currentKeyId, keys };
}

export function newPayloadKeySpec(id = 'k1'): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/**
 * Encrypts every payload Temporal stores for us (inputs, results, heartbeat and failure details)
 * with AES-256-GCM; the key id travels in the payload metadata (and is bound as associated data).
 * Payloads that are not ours pass through decode unchanged, so older plain histories still replay.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(
    private readonly currentKeyId: string,
    private readonly keys: Map<string, Buffer>,
  ) {}

  static fromSpec(spec: string): EncryptionCodec {
    const { currentKeyId, keys } = parsePayloadKeys(spec);
    return new EncryptionCodec(currentKeyId, keys);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys.get(this.currentKeyId)!;
    return payloads.map((payload) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(text.encode(this.currentKeyId));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: text.encode(ENCRYPTED_ENCODING), [KEY_ID_FIELD]: text.encode(this.currentKeyId) },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      if (!encoding || untext.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
      const keyIdBytes = payload.metadata?.[KEY_ID_FIELD];
      const keyId = keyIdBytes ? untext.decode(keyIdBytes) : '';
      const key = this.keys.get(keyId);
      if (!key)
        throw new PayloadKeyError(
          `payload encrypted with key ${JSON.stringify(keyId)}, which is not configured in VSC_PAYLOAD_KEYS`,
        );
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < 28) throw new PayloadKeyError('encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      decipher.setAAD(text.encode(keyId));
      decipher.setAuthTag(data.subarray(data.length - 16));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
      } catch {
        throw new PayloadKeyError('encrypted payload failed its integrity check (tampered, or the wrong key)');
      }
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/** Where the failure converter lives, for `dataConverter.failureConverterPath` and the workflow bundle. */
export function failureConverterPath(): string {
  return require.resolve('@vansales/temporal-config/failure-converter');
}

/** The data converter every client and worker uses: encrypted payloads, encrypted failure text. */
export function vansalesDataConverter(payloadKeys: string): {
  payloadCodecs: PayloadCodec[];
  failureConverterPath: string;
} {
  return { payloadCodecs: [EncryptionCodec.fromSpec(payloadKeys)], failureConverterPath: failureConverterPath() };
}
