import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * Audit records of agent operations, hash-chained: each record carries the hash of the one before,
 * so removing, reordering or editing a record breaks the chain at that record. The agent keeps one
 * chain in a JSONL file and the gateway one per connector in the metadata store; both use this code.
 *
 * A chain proves the order and content of what it holds, not that nothing was cut from its end:
 * compare the heads of the two sides (agent and gateway) to catch a truncated tail.
 */

/** prevHash of the first record of a chain. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** Longest statement text kept in a record; longer texts are cut and identified by their hash. */
export const AUDIT_STATEMENT_MAX_CHARS = 8192;

const HASH_DOMAIN = 'vansales-connect/audit/v1\n';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters');

export const AuditOutcome = { ok: 'ok', failed: 'failed', refused: 'refused', cancelled: 'cancelled' } as const;
export type AuditOutcome = (typeof AuditOutcome)[keyof typeof AuditOutcome];

export const AuditParamType = z.enum(['string', 'number', 'boolean', 'null', 'other']);
export type AuditParamType = z.infer<typeof AuditParamType>;

/** Who asked: the Temporal activity that ran the operation. */
export const AuditActor = z.strictObject({
  workflowId: z.string().max(256),
  runId: z.string().max(128),
  activityId: z.string().max(256),
  attempt: z.number().int().positive(),
});
export type AuditActor = z.infer<typeof AuditActor>;

/**
 * What ran, without parameter values: the statement text as sent (parameters as placeholders),
 * how many parameters there were and of which JSON types. Build it with `sanitizeStatement`.
 */
export const AuditStatement = z.strictObject({
  database: z.string().min(1).max(128).optional(),
  text: z.string().max(AUDIT_STATEMENT_MAX_CHARS),
  /** SHA-256 of the whole text, so a cut text still identifies its statement. */
  textSha256: hex64,
  truncated: z.boolean(),
  paramCount: z.number().int().nonnegative(),
  paramTypes: z.array(AuditParamType).max(1000),
});
export type AuditStatement = z.infer<typeof AuditStatement>;

/**
 * A change a person (or an API token, or the bootstrap token) made through the gateway's control
 * plane (issue 12): who, from where, and what the request named. Optional, so the agents' records
 * and every record written before it hash as they did.
 */
export const AuditPerson = z.strictObject({
  /** `user:<id>`, `token:<id>` (a tenant's token) or `admin-token`. */
  principal: z.string().min(1).max(128),
  /** The API token used, when a person acted through one. */
  tokenId: z.string().max(64).optional(),
  role: z.string().max(32).optional(),
  ip: z.string().max(64),
  userAgent: z.string().max(256).optional(),
  /** The HTTP status of the answer. */
  status: z.number().int().min(100).max(599),
  /** The path parameters of the request (ids of what was changed), never a body. */
  target: z.record(z.string().max(64), z.string().max(256)).optional(),
});
export type AuditPerson = z.infer<typeof AuditPerson>;

const recordShape = {
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  at: z.iso.datetime(),
  tenantId: z.string().min(1).max(128),
  connectorId: z.string().min(1).max(128),
  actor: AuditActor,
  operation: z.string().min(1).max(128),
  statement: AuditStatement.optional(),
  outcome: z.enum(['ok', 'failed', 'refused', 'cancelled']),
  /** An AgentErrorType (or other failure type); never a message, which may quote data. */
  errorType: z.string().min(1).max(128).optional(),
  rows: z.number().int().nonnegative().optional(),
  bytes: z.number().int().nonnegative().optional(),
  durationMs: z.number().int().nonnegative(),
  person: AuditPerson.optional(),
  prevHash: hex64,
  hash: hex64,
};

/** Strict: a field added to a stored record makes it invalid instead of being silently dropped. */
export const AuditRecord = z.strictObject(recordShape);
export type AuditRecord = z.infer<typeof AuditRecord>;

const UnhashedRecord = AuditRecord.omit({ hash: true });

/** What a caller supplies; the chain adds seq, prevHash and hash. */
export type AuditRecordFields = Omit<z.input<typeof AuditRecord>, 'seq' | 'prevHash' | 'hash'>;

/** The end of a chain: what the next record links to. */
export interface AuditChainHead {
  seq: number;
  hash: string;
}

function paramType(value: unknown): AuditParamType {
  if (value === null) return 'null';
  const t = typeof value;
  return t === 'string' || t === 'number' || t === 'boolean' ? t : 'other';
}

/**
 * The audit form of a statement: its text (cut to AUDIT_STATEMENT_MAX_CHARS, NUL characters replaced
 * so PostgreSQL jsonb accepts it), and the count and types of its parameters, never their values.
 */
export function sanitizeStatement(input: {
  sql: string;
  params?: readonly unknown[];
  database?: string;
}): AuditStatement {
  const params = input.params ?? [];
  const truncated = input.sql.length > AUDIT_STATEMENT_MAX_CHARS;
  return {
    ...(input.database !== undefined ? { database: input.database } : {}),
    text: input.sql.slice(0, AUDIT_STATEMENT_MAX_CHARS).replaceAll('\u0000', '\uFFFD'),
    textSha256: createHash('sha256').update(input.sql, 'utf8').digest('hex'),
    truncated,
    paramCount: params.length,
    paramTypes: params.slice(0, 1000).map(paramType),
  };
}

/**
 * JSON with object keys in code-unit order at every level and undefined members left out, so the
 * same record serialises to the same text wherever it was stored (jsonb reorders keys).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: cannot serialise a ${typeof value}`);
}

/** SHA-256 (hex) of the record's canonical JSON without its own `hash` member. */
export function hashRecord(record: Omit<AuditRecord, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...rest } = record;
  return createHash('sha256').update(HASH_DOMAIN).update(canonicalJson(rest), 'utf8').digest('hex');
}

/**
 * The record that follows `prev` (null: the first of a chain). Throws a ZodError naming the field
 * when the fields are not a valid record.
 */
export function linkRecord(prev: AuditChainHead | null, fields: AuditRecordFields): AuditRecord {
  const unhashed = UnhashedRecord.parse({
    ...fields,
    seq: prev ? prev.seq + 1 : 1,
    prevHash: prev ? prev.hash : AUDIT_GENESIS_HASH,
  });
  return { ...unhashed, hash: hashRecord(unhashed) };
}

export const ChainBreakReason = {
  /** A line that is not JSON. */
  unparsable: 'unparsable',
  /** JSON that is not an audit record (missing, extra or malformed fields). */
  invalidRecord: 'invalid-record',
  /** The record's content does not hash to its `hash`: it was edited. */
  hashMismatch: 'hash-mismatch',
  /** seq is not the previous one plus one: a record was removed, repeated or moved. */
  seqGap: 'seq-gap',
  /** prevHash is not the previous record's hash: the previous record was replaced, or one removed. */
  prevHashMismatch: 'prev-hash-mismatch',
  /** A signed checkpoint names another hash for this seq: the chain was rewritten (and re-hashed). */
  checkpointMismatch: 'checkpoint-mismatch',
  /** A checkpoint that the chain's key did not sign: forged or from another key. */
  checkpointSignature: 'checkpoint-signature',
  /** Records after the last signed checkpoint: appended (or rewritten) by someone without the key. */
  unsignedHead: 'unsigned-head',
} as const;
export type ChainBreakReason = (typeof ChainBreakReason)[keyof typeof ChainBreakReason];

export type ChainVerification =
  | {
      ok: true;
      count: number;
      head: AuditChainHead | null;
      /** Whether signed checkpoints were checked (a keyed chain), and the last seq one covers. */
      keyed?: { signedThrough: number };
    }
  | {
      ok: false;
      /** seq of the first broken link (the seq expected there when the record has none to read). */
      brokenAt: number;
      /** 0-based position of that record in the input (line number minus one for a file). */
      index: number;
      reason: ChainBreakReason;
      message: string;
      /** Records verified before the break. */
      count: number;
    };

type Break = Extract<ChainVerification, { ok: false }>;

/**
 * Verifies a chain one record at a time, so a file can be streamed through it.
 * `push` takes a JSON line or an already parsed record and returns the break, if this record is one;
 * after a break every further push returns that same break.
 */
export class ChainVerifier {
  private head: AuditChainHead | null;
  private index = 0;
  private broken: Break | null = null;

  /** anchor: the record just before the first one pushed (default: the chain starts at seq 1). */
  constructor(anchor: AuditChainHead | null = null) {
    this.head = anchor;
  }

  private get expectedSeq(): number {
    return this.head ? this.head.seq + 1 : 1;
  }

  private fail(brokenAt: number, reason: ChainBreakReason, message: string): Break {
    this.broken = { ok: false, brokenAt, index: this.index, reason, message, count: this.index };
    return this.broken;
  }

  push(item: unknown): Break | null {
    if (this.broken) return this.broken;
    let value = item;
    if (typeof item === 'string') {
      try {
        value = JSON.parse(item);
      } catch {
        return this.fail(this.expectedSeq, ChainBreakReason.unparsable, `record ${this.index + 1} is not JSON`);
      }
    }
    const parsed = AuditRecord.safeParse(value);
    if (!parsed.success) {
      const seq = (value as { seq?: unknown } | null)?.seq;
      const issue = parsed.error.issues[0];
      return this.fail(
        typeof seq === 'number' && Number.isInteger(seq) ? seq : this.expectedSeq,
        ChainBreakReason.invalidRecord,
        `record ${this.index + 1} is not a valid audit record: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown'}`,
      );
    }
    const record = parsed.data;
    if (hashRecord(record) !== record.hash) {
      return this.fail(
        record.seq,
        ChainBreakReason.hashMismatch,
        `record seq ${record.seq} does not match its hash: its content was changed`,
      );
    }
    if (record.seq !== this.expectedSeq) {
      return this.fail(
        record.seq,
        ChainBreakReason.seqGap,
        `expected seq ${this.expectedSeq}, found ${record.seq}: a record was removed, repeated or moved`,
      );
    }
    const expectedPrev = this.head ? this.head.hash : AUDIT_GENESIS_HASH;
    if (record.prevHash !== expectedPrev) {
      return this.fail(
        record.seq,
        ChainBreakReason.prevHashMismatch,
        this.head
          ? `record seq ${record.seq} does not link to record seq ${this.head.seq}: that record was replaced`
          : `record seq ${record.seq} does not link to the start of the chain`,
      );
    }
    this.head = { seq: record.seq, hash: record.hash };
    this.index++;
    return null;
  }

  result(): ChainVerification {
    return this.broken ?? { ok: true, count: this.index, head: this.head };
  }
}

/** Verifies records in order (JSON lines or parsed records) and names the first broken link. */
export function verifyChain(records: Iterable<unknown>, anchor: AuditChainHead | null = null): ChainVerification {
  const verifier = new ChainVerifier(anchor);
  for (const r of records) if (verifier.push(r)) break;
  return verifier.result();
}
