import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Payload } from '@temporalio/common';
import { ENCRYPTED_ENCODING, EncryptionCodec } from '@vansales/temporal-config';
import type { Platform } from './harness';

const isEncrypted = (v: unknown): boolean => {
  const m = (v as { metadata?: Record<string, Uint8Array> } | null)?.metadata;
  return (
    !!m &&
    typeof m === 'object' &&
    m.encoding instanceof Uint8Array &&
    Buffer.from(m.encoding).toString() === ENCRYPTED_ENCODING
  );
};

/**
 * Saves one run's history, decrypted, as the replay test's recorded history `name` (the same as
 * record-histories.ts writes): for workflows whose recording needs more than the recorder starts.
 */
export async function saveHistory(platform: Platform, name: string, workflowId: string): Promise<void> {
  const codec = EncryptionCodec.fromSpec(platform.payloadKeys);
  const decodeAll = async (node: unknown): Promise<void> => {
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (isEncrypted(value[i])) value[i] = (await codec.decode([value[i] as Payload]))[0];
          else await decodeAll(value[i]);
        }
      } else if (isEncrypted(value)) {
        (node as Record<string, unknown>)[key] = (await codec.decode([value as Payload]))[0];
      } else {
        await decodeAll(value);
      }
    }
  };
  const history = await platform.temporal.workflow.getHandle(workflowId).fetchHistory();
  await decodeAll(history);
  writeFileSync(
    join(__dirname, '..', '..', '..', 'workflows', 'test', 'histories', `${name}.json`),
    `${historyToJSON(history)}\n`,
  );
}
