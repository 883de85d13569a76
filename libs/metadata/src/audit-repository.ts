import { sql } from 'kysely';
import {
  AuditCheckpointScope,
  ChainVerifier,
  linkRecord,
  publicKeyFingerprint,
  publicKeyOf,
  signCheckpoint,
  verifyCheckpoints,
  type AuditChainHead,
  type AuditRecord,
  type AuditRecordFields,
  type ChainVerification,
} from '@vansales/protocol';
import type { MetadataDb } from './open-database';

/** Fields of one audited operation; `at` defaults to now. The repository adds seq and the hashes. */
export type AuditEventInput = Omit<AuditRecordFields, 'at'> & { at?: string };

/** A row as stored: the record as the database returns it (unvalidated) and its indexed columns. */
export interface StoredAuditEvent {
  seq: number;
  prevHash: string;
  hash: string;
  record: unknown;
}

/** Filters of AuditRepository.search. */
export interface AuditSearch {
  principal?: string;
  operation?: string;
  since?: Date;
  until?: Date;
  beforeSeq?: number;
  limit?: number;
}

/** First argument of pg_advisory_xact_lock(int, int): keeps audit locks apart from any other. */
const AUDIT_LOCK_SPACE = 0x617564; // 'aud'

/** The gateway's audit key (Ed25519, PKCS#8 PEM): signs a checkpoint of each chain head it writes. */
export interface AuditSigningKey {
  privateKeyPem: string;
}

/**
 * The gateway's copy of every agent operation: one append-only hash chain per connector, in
 * audit_events (UPDATE, DELETE and TRUNCATE are refused by a trigger). Reads are tenant-scoped.
 * With a signing key, every append also stores a signed checkpoint of the new head in the same
 * transaction, and verify checks them: whoever can write the database but not read the gateway's
 * secrets cannot rewrite a chain and re-hash it unnoticed.
 */
export function createAuditRepository(db: MetadataDb, options: { signingKey?: AuditSigningKey } = {}) {
  const signer = options.signingKey && {
    privateKeyPem: options.signingKey.privateKeyPem,
    publicKey: publicKeyOf(options.signingKey.privateKeyPem),
  };
  const keyId = signer && publicKeyFingerprint(signer.publicKey);
  const list = async (
    tenantId: string,
    connectorId: string,
    options: { afterSeq?: number; limit?: number } = {},
  ): Promise<StoredAuditEvent[]> => {
    const rows = await db
      .selectFrom('audit_events')
      .select(['seq', 'prev_hash', 'hash', 'record'])
      .where('tenant_id', '=', tenantId)
      .where('connector_id', '=', connectorId)
      .where('seq', '>', options.afterSeq ?? 0)
      .orderBy('seq')
      .limit(options.limit ?? 1000)
      .execute();
    return rows.map((r) => ({ seq: Number(r.seq), prevHash: r.prev_hash, hash: r.hash, record: r.record }));
  };

  /** The chain as a hash chain, page by page; a row whose columns disagree with its record is a break too. */
  const verifyHashChain = async (
    tenantId: string,
    connectorId: string,
    pageSize: number,
  ): Promise<ChainVerification> => {
    const verifier = new ChainVerifier();
    let afterSeq = 0;
    let index = 0;
    for (;;) {
      const page = await list(tenantId, connectorId, { afterSeq, limit: pageSize });
      for (const event of page) {
        if (verifier.push(event.record)) return verifier.result();
        const r = event.record as AuditRecord;
        if (event.seq !== r.seq || event.hash !== r.hash || event.prevHash !== r.prevHash) {
          return {
            ok: false,
            brokenAt: r.seq,
            index,
            reason: 'invalid-record',
            message: `the seq/hash columns of audit event seq ${r.seq} disagree with its record`,
            count: index,
          };
        }
        index++;
        afterSeq = event.seq;
      }
      if (page.length < pageSize) return verifier.result();
    }
  };

  return {
    /**
     * Links the event to the connector's last one and stores it, in one transaction that holds a
     * per-connector lock, so concurrent appends (from several gateway nodes too) form one chain.
     * Throws a ZodError naming the field when the input is not a valid record.
     */
    async append(input: AuditEventInput): Promise<AuditRecord> {
      return db.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(${sql.lit(AUDIT_LOCK_SPACE)}, hashtext(${input.connectorId}))`.execute(
          trx,
        );
        const last = await trx
          .selectFrom('audit_events')
          .select(['seq', 'hash'])
          .where('connector_id', '=', input.connectorId)
          .orderBy('seq', 'desc')
          .limit(1)
          .executeTakeFirst();
        const record = linkRecord(last ? { seq: Number(last.seq), hash: last.hash } : null, {
          ...input,
          at: input.at ?? new Date().toISOString(),
        });
        await trx
          .insertInto('audit_events')
          .values({
            tenant_id: record.tenantId,
            connector_id: record.connectorId,
            seq: record.seq,
            record: JSON.stringify(record),
            prev_hash: record.prevHash,
            hash: record.hash,
          })
          .execute();
        if (signer && keyId) {
          const subject = {
            scope: AuditCheckpointScope.gateway,
            tenantId: record.tenantId,
            connectorId: record.connectorId,
          };
          const cp = signCheckpoint(signer.privateKeyPem, subject, { seq: record.seq, hash: record.hash });
          await trx
            .insertInto('audit_checkpoints')
            .values({
              tenant_id: record.tenantId,
              connector_id: record.connectorId,
              seq: cp.seq,
              hash: cp.hash,
              signature: cp.signature,
              key_id: keyId,
            })
            .execute();
        }
        return record;
      });
    },

    /** The connector's last seq and hash, to compare with the agent's own log. */
    async head(tenantId: string, connectorId: string): Promise<AuditChainHead | null> {
      const row = await db
        .selectFrom('audit_events')
        .select(['seq', 'hash'])
        .where('tenant_id', '=', tenantId)
        .where('connector_id', '=', connectorId)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? { seq: Number(row.seq), hash: row.hash } : null;
    },

    /** Stored events in seq order, a page at a time (afterSeq: the last seq of the previous page). */
    list,

    /**
     * One chain's records, newest first, filtered on the people fields (issue 12): who (`principal`),
     * which operation, and a time range; `beforeSeq` pages on from the last seq of the previous page.
     */
    async search(
      tenantId: string,
      connectorId: string,
      filter: AuditSearch = {},
    ): Promise<{ seq: number; record: unknown }[]> {
      let q = db
        .selectFrom('audit_events')
        .select(['seq', 'record'])
        .where('tenant_id', '=', tenantId)
        .where('connector_id', '=', connectorId);
      if (filter.beforeSeq !== undefined) q = q.where('seq', '<', filter.beforeSeq);
      if (filter.since) q = q.where('created_at', '>=', filter.since);
      if (filter.until) q = q.where('created_at', '<', filter.until);
      if (filter.principal) q = q.where(sql<string>`record->'person'->>'principal'`, '=', filter.principal);
      if (filter.operation) q = q.where(sql<string>`record->>'operation'`, '=', filter.operation);
      const rows = await q
        .orderBy('seq', 'desc')
        .limit(filter.limit ?? 100)
        .execute();
      return rows.map((r) => ({ seq: Number(r.seq), record: r.record }));
    },

    /**
     * Verifies the connector's whole chain, page by page, and names the first broken link; a row whose
     * seq or hash columns disagree with its record is a break too.
     */
    async verify(
      tenantId: string,
      connectorId: string,
      options: { pageSize?: number } = {},
    ): Promise<ChainVerification> {
      const chain = await verifyHashChain(tenantId, connectorId, options.pageSize ?? 1000);
      if (!chain.ok || !signer) return chain;
      // Each checkpoint beside the hash the chain holds at its seq (null: the chain has no such record).
      const rows = await db
        .selectFrom('audit_checkpoints as c')
        .leftJoin('audit_events as e', (join) =>
          join.onRef('e.connector_id', '=', 'c.connector_id').onRef('e.seq', '=', 'c.seq'),
        )
        .select(['c.seq', 'c.hash', 'c.signature', 'e.hash as chainHash', 'e.tenant_id as chainTenant'])
        .where('c.tenant_id', '=', tenantId)
        .where('c.connector_id', '=', connectorId)
        .orderBy('c.seq')
        .execute();
      const chainHashes = new Map<number, string>();
      for (const r of rows) if (r.chainHash && r.chainTenant === tenantId) chainHashes.set(Number(r.seq), r.chainHash);
      return verifyCheckpoints({
        chain,
        publicKey: signer.publicKey,
        hashAt: (seq) => chainHashes.get(seq),
        checkpoints: rows.map((r) => ({
          seq: Number(r.seq),
          hash: r.hash,
          signature: r.signature,
          subject: { scope: AuditCheckpointScope.gateway, tenantId, connectorId },
        })),
      });
    },
  };
}
export type AuditRepository = ReturnType<typeof createAuditRepository>;
