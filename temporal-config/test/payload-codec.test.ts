import { createCipheriv, randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload, type SerializationContext } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
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

  const ctx = (workflowId: string, namespace = 'vansales'): SerializationContext => ({
    type: 'workflow',
    namespace,
    workflowId,
  });
  const activity = (workflowId: string): SerializationContext => ({
    type: 'activity',
    namespace: 'vansales',
    workflowId,
    activityId: '1',
    isLocal: false,
  });
  const value = (p: Payload) => defaultPayloadConverter.fromPayload(p);

  it('refuses plain payloads unless the compatibility switch is on, and names the switch', async () => {
    const codec = EncryptionCodec.fromSpec(newPayloadKeySpec());
    await expect(codec.decode([payload], ctx('sync-a'))).rejects.toThrow(/VSC_PAYLOAD_ACCEPT_PLAINTEXT=true/);
    await expect(codec.decode([payload])).rejects.toThrow(/unencrypted/);
    const compatible = EncryptionCodec.fromSpec(newPayloadKeySpec(), { acceptPlaintext: true });
    expect(await compatible.decode([payload], ctx('sync-a'))).toEqual([payload]);
  });

  it('binds a payload to its workflow: it decodes there and nowhere else', async () => {
    const codec = EncryptionCodec.fromSpec(newPayloadKeySpec());
    const [sealed] = await codec.encode([payload], ctx('sync-tenant-a'));
    expect(value((await codec.decode([sealed!], ctx('sync-tenant-a')))[0]!)).toEqual(value(payload));
    // The activities the workflow schedules read it too (their context names the workflow).
    expect(value((await codec.decode([sealed!], activity('sync-tenant-a')))[0]!)).toEqual(value(payload));
    // Copied into another tenant's workflow, or into one started by whoever reaches the frontend.
    await expect(codec.decode([sealed!], ctx('sync-tenant-b'))).rejects.toThrow(
      /payload of workflow "sync-tenant-a" in workflow "sync-tenant-b"/,
    );
    await expect(codec.decode([sealed!], activity('sync-tenant-b'))).rejects.toThrow(/decodes only in the workflow/);
    await expect(codec.decode([sealed!], ctx('sync-tenant-a', 'other'))).rejects.toThrow(/namespace "vansales"/);
    // Relabelling the metadata breaks the seal: the binding is associated data.
    const relabelled = {
      ...sealed!,
      metadata: { ...sealed!.metadata, 'vsc-workflow-id': Buffer.from('sync-tenant-b') },
    };
    await expect(codec.decode([relabelled], ctx('sync-tenant-b'))).rejects.toThrow(/failed its integrity check/);
    // Inspection without a context (the Web UI's codec endpoint, history tools) still reads it.
    expect(value((await codec.decode([sealed!]))[0]!)).toEqual(value(payload));
  });

  it('lets a scheduled run read the arguments its Schedule encoded, and nothing else', async () => {
    const codec = EncryptionCodec.fromSpec(newPayloadKeySpec());
    const [args] = await codec.encode([payload], ctx('buffer-purge'));
    expect(await codec.decode([args!], ctx('buffer-purge-2026-12-02T23:00:00Z'))).toHaveLength(1);
    await expect(codec.decode([args!], ctx('buffer-purge-x'))).rejects.toThrow(/decodes only in the workflow/);
    await expect(codec.decode([args!], ctx('buffer'))).rejects.toThrow(/decodes only in the workflow/);
  });

  it('refuses, inside a workflow, a payload encoded for none', async () => {
    const codec = EncryptionCodec.fromSpec(newPayloadKeySpec());
    const [unbound] = await codec.encode([payload]);
    await expect(codec.decode([unbound!], ctx('sync-a'))).rejects.toThrow(/payload of workflow ""/);
  });

  it('reads version 1 payloads (bound to no workflow) only with VSC_PAYLOAD_ACCEPT_V1', async () => {
    const spec = newPayloadKeySpec('k1');
    const { keys } = parsePayloadKeys(spec);
    // Version 1 as it was written: key id as the only associated data, no version field.
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', keys.get('k1')!, iv);
    cipher.setAAD(Buffer.from('k1'));
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const v1: Payload = {
      metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), 'encryption-key-id': Buffer.from('k1') },
      data: Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]),
    };
    await expect(EncryptionCodec.fromSpec(spec).decode([v1], ctx('sync-a'))).rejects.toThrow(
      /VSC_PAYLOAD_ACCEPT_V1=true/,
    );
    const compatible = EncryptionCodec.fromSpec(spec, { acceptV1: true });
    expect(value((await compatible.decode([v1], ctx('sync-a')))[0]!)).toEqual(value(payload));
  });

  it('names what is wrong with a key setting', () => {
    expect(() => parsePayloadKeys('')).toThrow(/no key given/);
    expect(() => parsePayloadKeys('k1:AAAA')).toThrow(/key k1 is 3 bytes; AES-256 needs 32/);
    expect(() => parsePayloadKeys('bad id:AAAA')).toThrow(/each key is <id>:<base64>/);
  });
});
