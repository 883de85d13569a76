import { newBufferKeySpec } from '@vansales/buffer';
import { createSecretBox } from '../src/webhooks/secret-box';
import { newWebhookSecret } from '../src/webhooks/signatures';

describe('webhook secrets sealed at rest', () => {
  const spec = newBufferKeySpec('k1');
  const box = createSecretBox(spec);
  const secret = newWebhookSecret();

  it('seals without the secret in the stored bytes, and opens it back', () => {
    const { keyId, sealed } = box.seal('acme', 'wh_1', 'whs_1', secret);
    expect(keyId).toBe('k1');
    expect(sealed.includes(Buffer.from(secret))).toBe(false);
    expect(sealed.includes(Buffer.from(secret.slice(6), 'base64'))).toBe(false);
    expect(box.open('acme', 'wh_1', 'whs_1', keyId, sealed)).toBe(secret);
  });

  it('does not open under another tenant, hook or secret id, nor when a byte changed', () => {
    const { keyId, sealed } = box.seal('acme', 'wh_1', 'whs_1', secret);
    expect(() => box.open('other', 'wh_1', 'whs_1', keyId, sealed)).toThrow();
    expect(() => box.open('acme', 'wh_2', 'whs_1', keyId, sealed)).toThrow();
    expect(() => box.open('acme', 'wh_1', 'whs_2', keyId, sealed)).toThrow();
    const flipped = Buffer.from(sealed);
    flipped[20] = flipped[20]! ^ 1;
    expect(() => box.open('acme', 'wh_1', 'whs_1', keyId, flipped)).toThrow();
  });

  it('opens secrets sealed under an older master key after a key rotation, and names a missing key', () => {
    const { keyId, sealed } = box.seal('acme', 'wh_1', 'whs_1', secret);
    const rotated = createSecretBox(`${newBufferKeySpec('k2')},${spec}`);
    expect(rotated.open('acme', 'wh_1', 'whs_1', keyId, sealed)).toBe(secret);
    expect(rotated.seal('acme', 'wh_1', 'whs_2', secret).keyId).toBe('k2');
    expect(() => createSecretBox(newBufferKeySpec('k3')).open('acme', 'wh_1', 'whs_1', keyId, sealed)).toThrow(/k1/);
  });
});
