import { z } from 'zod';
import { ChainBreakReason, type AuditChainHead, type ChainVerification } from './audit-chain';
import { signBytes, verifyBytes } from './agent-proof';

/**
 * Signed checkpoints of an audit chain. A hash chain alone proves order and content only against
 * someone who cannot recompute it; whoever can write the store can rewrite a record and re-hash
 * everything after it. A checkpoint is a signature over (chain, seq, hash) by a key the writer of the
 * store does not hold: the agent's key pair for its local log, the gateway's audit key for its copy.
 * Since each hash commits to every record before it, one valid checkpoint on the head covers the
 * whole chain; a rewritten chain no longer matches the checkpoints, and new ones cannot be made.
 */

export const AuditCheckpointScope = { agent: 'agent', gateway: 'gateway' } as const;
export type AuditCheckpointScope = (typeof AuditCheckpointScope)[keyof typeof AuditCheckpointScope];

export const AuditCheckpoint = z.strictObject({
  seq: z.number().int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  signature: z.string().regex(/^[A-Za-z0-9_-]{80,128}$/),
});
export type AuditCheckpoint = z.infer<typeof AuditCheckpoint>;

export interface CheckpointSubject {
  scope: AuditCheckpointScope;
  tenantId: string;
  connectorId: string;
}

export function checkpointMessage(subject: CheckpointSubject, head: AuditChainHead): Buffer {
  return Buffer.from(
    [
      'vansales-connect/audit-checkpoint/v1',
      subject.scope,
      subject.tenantId,
      subject.connectorId,
      String(head.seq),
      head.hash,
    ].join('\0'),
    'utf8',
  );
}

export function signCheckpoint(
  privateKeyPem: string,
  subject: CheckpointSubject,
  head: AuditChainHead,
): AuditCheckpoint {
  return { ...head, signature: signBytes(privateKeyPem, checkpointMessage(subject, head)) };
}

/**
 * Checks checkpoints (in any order) against a chain already verified as a hash chain: each must be
 * signed by `publicKey` and name the hash the chain has at its seq, and one must cover the head.
 * `hashAt` gives the chain's hash at a seq (undefined past the head).
 */
export function verifyCheckpoints(options: {
  chain: Extract<ChainVerification, { ok: true }>;
  checkpoints: Iterable<AuditCheckpoint & { subject: CheckpointSubject }>;
  publicKey: string;
  hashAt: (seq: number) => string | undefined;
}): ChainVerification {
  const { chain } = options;
  let signedThrough = 0;
  let index = 0;
  const fail = (seq: number, reason: ChainBreakReason, message: string): ChainVerification => ({
    ok: false,
    brokenAt: seq,
    index: Math.max(0, seq - 1),
    reason,
    message,
    count: Math.max(0, seq - 1),
  });
  for (const cp of options.checkpoints) {
    index++;
    const hash = options.hashAt(cp.seq);
    if (hash === undefined)
      return fail(
        cp.seq,
        ChainBreakReason.checkpointMismatch,
        `a signed checkpoint covers seq ${cp.seq}, which the chain no longer has: records were cut from its end`,
      );
    if (!verifyBytes(options.publicKey, cp.signature, checkpointMessage(cp.subject, cp)))
      return fail(
        cp.seq,
        ChainBreakReason.checkpointSignature,
        `checkpoint ${index} (seq ${cp.seq}) is not signed by the chain's key: forged, or signed by another key`,
      );
    if (hash !== cp.hash)
      return fail(
        cp.seq,
        ChainBreakReason.checkpointMismatch,
        `record seq ${cp.seq} is not the record that was signed: the chain was rewritten from there or before`,
      );
    signedThrough = Math.max(signedThrough, cp.seq);
  }
  const headSeq = chain.head?.seq ?? 0;
  if (signedThrough < headSeq)
    return fail(
      signedThrough + 1,
      ChainBreakReason.unsignedHead,
      `records from seq ${signedThrough + 1} to ${headSeq} are not covered by a signed checkpoint: they were added or rewritten without the key`,
    );
  return { ...chain, keyed: { signedThrough } };
}
