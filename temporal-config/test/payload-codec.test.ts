import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec, newPayloadKeySpec, parsePayloadKeys, ENCRYPTED_ENCODING } from '@vansales/temporal-config';

const text = (b?: Uint8Array | null) => Buffer.from(b ?? new Uint8Array()).toString('utf8');

describe('payload encryption codec', () => {
  const payload = defaultPayloadConverter.toPayload({ sql: 'SELECT secret FROM payroll', rows: [[1, 'Ann']] });

  it('encrypts so nothing readable remains, and decrypts to the same payload', async () => {
    const codec = EncryptionCodec.fromSpec(newPayloadKeySpec('k1'));
    const [encrypted] = await codec.encode([payload]);
    expect(text(encrypted!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encrypted!.metadata!['encryption-key-id'])).toBe('k1');
    expect(text(encrypted!.data)).not.toContain('payroll');
    const [decrypted] = await codec.decode([encrypted!]);
    expect(defaultPayloadConverter.fromPayload(decrypted!)).toEqual({
      sql: 'SELECT secret FROM payroll',
      rows: [[1, 'Ann']],
    });
  });

  it('refuses a tampered payload and one encrypted with a key it does not have', async () => {
    const codec = EncryptionCodec.fromSpec(newPayloadKeySpec('k1'));
    const [encrypted] = await codec.encode([payload]);
    const tampered = { ...encrypted!, data: Buffer.from(encrypted!.data!).map((b, i) => (i === 20 ? b ^ 1 : b)) };
    await expect(codec.decode([tampered])).rejects.toThrow(/failed its integrity check/);
    const other = EncryptionCodec.fromSpec(newPayloadKeySpec('k2'));
    await expect(other.decode([encrypted!])).rejects.toThrow(/encrypted with key "k1", which is not configured/);
  });

  it('rotates keys: new payloads use the first key, old ones still decrypt', async () => {
    const oldSpec = newPayloadKeySpec('k1');
    const [old] = await EncryptionCodec.fromSpec(oldSpec).encode([payload]);
    const rotated = EncryptionCodec.fromSpec(`${newPayloadKeySpec('k2')},${oldSpec}`);
    expect(text((await rotated.encode([payload]))[0]!.metadata!['encryption-key-id'])).toBe('k2');
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([old!]))[0]!)).toEqual({
      sql: 'SELECT secret FROM payroll',
      rows: [[1, 'Ann']],
    });
  });

  it('passes plain payloads through decode, so histories from before encryption still replay', async () => {
    const codec = EncryptionCodec.fromSpec(newPayloadKeySpec());
    expect(await codec.decode([payload])).toEqual([payload]);
  });

  it('names what is wrong with a key setting', () => {
    expect(() => parsePayloadKeys('')).toThrow(/no key given/);
    expect(() => parsePayloadKeys('k1:AAAA')).toThrow(/key k1 is 3 bytes; AES-256 needs 32/);
    expect(() => parsePayloadKeys('bad id:AAAA')).toThrow(/each key is <id>:<base64>/);
  });
});
