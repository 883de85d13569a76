import { sql, type ExpressionBuilder } from 'kysely';
import type { Database } from './schema';
import type { MetadataDb } from './open-database';

/** A sealed credential as stored: the caller seals before `put` and opens after `get`. */
export interface SealedCredentialRow {
  tenantId: string;
  name: string;
  kind: string;
  keyId: string;
  wrappedKey: Buffer;
  sealed: Buffer;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  expiresAt?: Date;
  failure?: string;
  failedAt?: Date;
  /** When it was last attached to a request (to the minute). */
  lastUsedAt?: Date;
}

/** What a listing shows: names, kinds, dates and failures, never the sealed bytes. */
export type CredentialSummaryRow = Omit<SealedCredentialRow, 'keyId' | 'wrappedKey' | 'sealed'>;

type Row = {
  tenant_id: string;
  name: string;
  kind: string;
  key_id: string;
  wrapped_key: Buffer | Uint8Array;
  sealed: Buffer | Uint8Array;
  version: number;
  created_at: Date;
  updated_at: Date;
  expires_at: Date | null;
  failure: string | null;
  failed_at: Date | null;
  last_used_at: Date | null;
};

const summaryOf = (r: Omit<Row, 'key_id' | 'wrapped_key' | 'sealed'>): CredentialSummaryRow => ({
  tenantId: r.tenant_id,
  name: r.name,
  kind: r.kind,
  version: Number(r.version),
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
  expiresAt: r.expires_at ? new Date(r.expires_at) : undefined,
  failure: r.failure ?? undefined,
  failedAt: r.failed_at ? new Date(r.failed_at) : undefined,
  lastUsedAt: r.last_used_at ? new Date(r.last_used_at) : undefined,
});

const sealedOf = (r: Row): SealedCredentialRow => ({
  ...summaryOf(r),
  keyId: r.key_id,
  wrappedKey: Buffer.from(r.wrapped_key),
  sealed: Buffer.from(r.sealed),
});

/** First argument of pg_advisory_xact_lock(int, int): keeps credential locks apart from any other. */
const CREDENTIAL_LOCK_SPACE = 0x637264; // 'crd'

/** How long a process waits for another one's renewal of the same credential before giving up. */
export const CREDENTIAL_LOCK_TIMEOUT_MS = 30_000;

/** Raised when another process held a credential's lock past the wait (`withLock`): trying again may succeed. */
export class CredentialLockTimeoutError extends Error {
  override name = 'CredentialLockTimeoutError';
}

/**
 * Rows of the cloud credential store (0013). Every query names the tenant: there is no lookup by
 * name alone, so one tenant's name never reaches another's row. Expired rows (pending
 * authorizations) read as absent.
 */
export function createCredentialRepository(db: MetadataDb, now: () => number = Date.now) {
  return {
    ...credentialRows(db, now),

    /**
     * Runs `fn` holding a lock on (tenant, name) that every process on this database honours (a
     * transaction-scoped PostgreSQL advisory lock, so a process that dies lets go), with rows whose
     * reads and writes go through the lock's own connection (PGlite has only that one). It is a lock,
     * not a unit of work: what `fn` wrote before it threw is kept, and its error is thrown on.
     * Waits at most `timeoutMs`, then throws CredentialLockTimeoutError.
     */
    async withLock<T>(
      tenantId: string,
      name: string,
      fn: (rows: CredentialRows) => Promise<T>,
      timeoutMs = CREDENTIAL_LOCK_TIMEOUT_MS,
    ): Promise<T> {
      const outcome = await db.transaction().execute(async (trx) => {
        await sql`SELECT set_config('lock_timeout', ${`${Math.max(1, Math.round(timeoutMs))}ms`}, true)`.execute(trx);
        try {
          await sql`SELECT pg_advisory_xact_lock(${sql.lit(CREDENTIAL_LOCK_SPACE)}, hashtext(${`${tenantId}/${name}`}))`.execute(
            trx,
          );
        } catch (err) {
          // 55P03 lock_not_available: lock_timeout ran out while another process held it.
          if ((err as { code?: unknown }).code === '55P03')
            throw new CredentialLockTimeoutError(
              `credential ${name} of tenant ${tenantId} stayed locked by another process for ${timeoutMs} ms`,
            );
          throw err;
        }
        await sql`SELECT set_config('lock_timeout', '0', true)`.execute(trx);
        try {
          return { ok: true as const, value: await fn(credentialRows(trx, now)) };
        } catch (error) {
          return { ok: false as const, error };
        }
      });
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    },
  };
}

/** The row operations of the store, on the pool or on one locked connection. */
function credentialRows(db: MetadataDb, now: () => number) {
  const live = () => (eb: ExpressionBuilder<Database, 'credentials'>) =>
    eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date(now()))]);
  const base = (tenantId: string) => db.selectFrom('credentials').where('tenant_id', '=', tenantId);

  return {
    /** Inserts or replaces (version + 1, failure cleared). */
    async put(
      row: Pick<SealedCredentialRow, 'tenantId' | 'name' | 'kind' | 'keyId' | 'wrappedKey' | 'sealed' | 'expiresAt'>,
    ): Promise<number> {
      const at = new Date(now());
      const res = await db
        .insertInto('credentials')
        .values({
          tenant_id: row.tenantId,
          name: row.name,
          kind: row.kind,
          key_id: row.keyId,
          wrapped_key: row.wrappedKey,
          sealed: row.sealed,
          updated_at: at,
          expires_at: row.expiresAt ?? null,
        })
        .onConflict((oc) =>
          oc.columns(['tenant_id', 'name']).doUpdateSet({
            kind: row.kind,
            key_id: row.keyId,
            wrapped_key: row.wrappedKey,
            sealed: row.sealed,
            version: sql<number>`credentials.version + 1`,
            updated_at: at,
            expires_at: row.expiresAt ?? null,
            failure: null,
            failed_at: null,
          }),
        )
        .returning('version')
        .executeTakeFirstOrThrow();
      return Number(res.version);
    },

    async get(tenantId: string, name: string): Promise<SealedCredentialRow | undefined> {
      const r = (await base(tenantId).selectAll().where('name', '=', name).where(live()).executeTakeFirst()) as
        Row | undefined;
      return r ? sealedOf(r) : undefined;
    },

    /** Names (with kind, dates, failure) of a tenant's live credentials, optionally under a prefix. */
    async list(tenantId: string, prefix?: string): Promise<CredentialSummaryRow[]> {
      let q = base(tenantId)
        .select([
          'tenant_id',
          'name',
          'kind',
          'version',
          'created_at',
          'updated_at',
          'expires_at',
          'failure',
          'failed_at',
          'last_used_at',
        ])
        .where(live());
      // starts_with, not LIKE: a name may hold % or _.
      if (prefix) q = q.where(sql<boolean>`starts_with(name, ${prefix})`);
      const rows = await q.orderBy('name').execute();
      return rows.map(summaryOf);
    },

    async delete(tenantId: string, name: string): Promise<boolean> {
      const res = await db
        .deleteFrom('credentials')
        .where('tenant_id', '=', tenantId)
        .where('name', '=', name)
        .executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    },

    /** Deletes and returns in one statement, so a one-time secret (a pending authorization) is used once. */
    async take(tenantId: string, name: string): Promise<SealedCredentialRow | undefined> {
      const r = (await db
        .deleteFrom('credentials')
        .where('tenant_id', '=', tenantId)
        .where('name', '=', name)
        .where(live())
        .returningAll()
        .executeTakeFirst()) as Row | undefined;
      return r ? sealedOf(r) : undefined;
    },

    /** Replaces the wrapped data key only (master key rotation): the sealed secret and its version stay. */
    async rewrap(tenantId: string, name: string, from: { keyId: string }, to: { keyId: string; wrappedKey: Buffer }) {
      const res = await db
        .updateTable('credentials')
        .set({ key_id: to.keyId, wrapped_key: to.wrappedKey })
        .where('tenant_id', '=', tenantId)
        .where('name', '=', name)
        .where('key_id', '=', from.keyId)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) > 0;
    },

    /** Rows still wrapped under another master key than `keyId` (what a rotation must rewrap). */
    async wrappedUnderOther(keyId: string, limit = 500): Promise<SealedCredentialRow[]> {
      const rows = (await db
        .selectFrom('credentials')
        .selectAll()
        .where('key_id', '!=', keyId)
        .orderBy('tenant_id')
        .orderBy('name')
        .limit(limit)
        .execute()) as Row[];
      return rows.map(sealedOf);
    },

    /**
     * Notes that a credential was attached to a request. At most one write a minute per credential:
     * a busy API must not turn every call into an UPDATE.
     */
    async markUsed(tenantId: string, name: string): Promise<void> {
      const at = new Date(now());
      await db
        .updateTable('credentials')
        .set({ last_used_at: at })
        .where('tenant_id', '=', tenantId)
        .where('name', '=', name)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(now() - 60_000))]))
        .execute();
    },

    /** Records why a credential could not be used (shown to its owner) without changing it. */
    async recordFailure(tenantId: string, name: string, failure: string): Promise<void> {
      await db
        .updateTable('credentials')
        .set({ failure: failure.slice(0, 1000), failed_at: new Date(now()) })
        .where('tenant_id', '=', tenantId)
        .where('name', '=', name)
        .execute();
    },
  };
}
export type CredentialRows = ReturnType<typeof credentialRows>;
export type CredentialRepository = ReturnType<typeof createCredentialRepository>;
