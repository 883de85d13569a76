import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID_FIELD = 'encryption-key-id';
const VERSION_FIELD = 'encoding-version';
const NAMESPACE_FIELD = 'vsc-namespace';
const WORKFLOW_ID_FIELD = 'vsc-workflow-id';
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

/** Which payloads `decode` accepts besides the current encoding: both are upgrade aids, off by default. */
export interface PayloadCompatibility {
  /** Unencrypted payloads (histories from before encryption). VSC_PAYLOAD_ACCEPT_PLAINTEXT. */
  acceptPlaintext?: boolean;
  /** Encoding version 1 (not bound to a workflow). VSC_PAYLOAD_ACCEPT_V1. */
  acceptV1?: boolean;
}

/**
 * Encrypts every payload Temporal stores for us (inputs, results, heartbeat and failure details)
 * with AES-256-GCM. Version 2 (current) binds each payload to the workflow that owns it: the
 * namespace and workflow id from the SDK's serialization context travel in the metadata and are
 * part of the associated data, so a payload copied into another workflow (another tenant's, or one
 * started by whoever reaches the Temporal frontend) fails to decode there. The threat model is in
 * temporal-config/README.md.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(
    private readonly currentKeyId: string,
    private readonly keys: Map<string, Buffer>,
    private readonly compatibility: PayloadCompatibility = {},
  ) {}

  static fromSpec(spec: string, compatibility: PayloadCompatibility = {}): EncryptionCodec {
    const { currentKeyId, keys } = parsePayloadKeys(spec);
    return new EncryptionCodec(currentKeyId, keys, compatibility);
  }

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    const key = this.keys.get(this.currentKeyId)!;
    // Without a context (nothing in our processes encodes so) the payload is bound to no workflow,
    // and every worker refuses it: only inspection tools (decode without a context) read it.
    const namespace = context?.namespace ?? '';
    const workflowId = context?.workflowId ?? '';
    return payloads.map((payload) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(associatedData(this.currentKeyId, namespace, workflowId));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          encoding: text.encode(ENCRYPTED_ENCODING),
          [VERSION_FIELD]: text.encode('2'),
          [KEY_ID_FIELD]: text.encode(this.currentKeyId),
          [NAMESPACE_FIELD]: text.encode(namespace),
          [WORKFLOW_ID_FIELD]: text.encode(workflowId),
        },
        data,
      };
    });
  }

  /**
   * With a context (every worker and client call), a payload decodes only in the workflow it was
   * encoded for. Without one (the Web UI's codec endpoint, history tools) it decodes wherever it
   * was meant to go: an inspection, not an execution.
   */
  async decode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    return payloads.map((payload) => {
      const meta = payload.metadata ?? {};
      const field = (name: string) => (meta[name] ? untext.decode(meta[name]) : undefined);
      if (field('encoding') !== ENCRYPTED_ENCODING) {
        if (this.compatibility.acceptPlaintext) return payload;
        throw new PayloadKeyError(
          'refused an unencrypted payload: only payloads encrypted with VSC_PAYLOAD_KEYS are accepted' +
            ' (VSC_PAYLOAD_ACCEPT_PLAINTEXT=true reads histories from before encryption)',
        );
      }
      const version = field(VERSION_FIELD);
      const keyId = field(KEY_ID_FIELD) ?? '';
      const key = this.keys.get(keyId);
      if (!key)
        throw new PayloadKeyError(
          `payload encrypted with key ${JSON.stringify(keyId)}, which is not configured in VSC_PAYLOAD_KEYS`,
        );
      let aad: Uint8Array;
      if (version === undefined) {
        if (!this.compatibility.acceptV1)
          throw new PayloadKeyError(
            'refused a payload of encoding version 1 (not bound to a workflow)' +
              ' (VSC_PAYLOAD_ACCEPT_V1=true reads histories written before version 2)',
          );
        aad = text.encode(keyId);
      } else if (version === '2') {
        const namespace = field(NAMESPACE_FIELD) ?? '';
        const workflowId = field(WORKFLOW_ID_FIELD) ?? '';
        if (context) checkBinding(namespace, workflowId, context);
        aad = associatedData(keyId, namespace, workflowId);
      } else {
        throw new PayloadKeyError(`payload encoding version ${JSON.stringify(version)} is newer than this process`);
      }
      return temporal.api.common.v1.Payload.decode(open(key, aad, payload.data)) as Payload;
    });
  }
}

function open(key: Buffer, aad: Uint8Array, bytes: Uint8Array | null | undefined): Uint8Array {
  const data = Buffer.from(bytes ?? new Uint8Array());
  if (data.length < 28) throw new PayloadKeyError('encrypted payload is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
  decipher.setAAD(aad);
  decipher.setAuthTag(data.subarray(data.length - 16));
  try {
    return Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
  } catch {
    throw new PayloadKeyError(
      'encrypted payload failed its integrity check (tampered, moved from another workflow, or the wrong key)',
    );
  }
}

/** Unambiguous: a JSON array, so no choice of ids can make two different bindings the same bytes. */
function associatedData(keyId: string, namespace: string, workflowId: string): Uint8Array {
  return text.encode(JSON.stringify(['vsc-payload', 2, keyId, namespace, workflowId]));
}

/**
 * A Temporal Schedule encodes its action's arguments for the workflow id it is given, and starts
 * each run as `<that id>-<scheduled time, RFC 3339>`: such a run is the same binding.
 */
const SCHEDULED_RUN_SUFFIX = /^-\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function checkBinding(namespace: string, workflowId: string, context: SerializationContext): void {
  const wanted = context.workflowId;
  if (namespace && context.namespace && namespace !== context.namespace)
    throw new PayloadKeyError(
      `refused a payload of namespace ${JSON.stringify(namespace)} in namespace ${JSON.stringify(context.namespace)}`,
    );
  if (wanted === undefined) return;
  const same =
    workflowId !== '' &&
    (workflowId === wanted ||
      (wanted.startsWith(workflowId) && SCHEDULED_RUN_SUFFIX.test(wanted.slice(workflowId.length))));
  if (!same)
    throw new PayloadKeyError(
      `refused a payload of workflow ${JSON.stringify(workflowId)} in workflow ${JSON.stringify(wanted)}:` +
        ' a payload decodes only in the workflow it was encrypted for',
    );
}

/** Where the failure converter lives, for `dataConverter.failureConverterPath` and the workflow bundle. */
export function failureConverterPath(): string {
  return require.resolve('@vansales/temporal-config/failure-converter');
}

/** The data converter every client and worker uses: encrypted payloads, encrypted failure text. */
export function vansalesDataConverter(
  payloadKeys: string,
  compatibility: PayloadCompatibility = {},
): {
  payloadCodecs: PayloadCodec[];
  failureConverterPath: string;
} {
  return {
    payloadCodecs: [EncryptionCodec.fromSpec(payloadKeys, compatibility)],
    failureConverterPath: failureConverterPath(),
  };
}
