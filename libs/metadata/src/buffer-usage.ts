import { sql } from 'kysely';
import type { MetadataDb } from './open-database';

export interface BufferLimits {
  /** Most bytes one object may hold (all its chunks). */
  maxObjectBytes: number;
  /** Most bytes a tenant may hold in live (unexpired) objects. */
  tenantQuotaBytes: number;
}

export type BufferUsageCheck =
  | { ok: true }
  | { ok: false; limit: 'object'; usedBytes: number; maxBytes: number }
  | { ok: false; limit: 'tenant'; usedBytes: number; maxBytes: number; freesAt?: Date };

const num = (v: unknown) => Number(v ?? 0);

/**
 * The buffer's byte accounting, kept in the metadata store so it survives restarts and is shared
 * by every gateway node. A chunk is counted before it is stored (a write that then fails stays
 * counted until its object expires: the count errs on the side of the quota). Checking and
 * counting happen under a per-tenant lock, so parallel uploads cannot all slip under the quota.
 */
export function createBufferUsage(db: MetadataDb, now: () => number = Date.now) {
  return {
    /** Counts chunk `index` of an object at `bytes` (replacing an earlier write of it) if both limits allow it. */
    async reserveChunk(
      tenantId: string,
      objectId: string,
      index: number,
      bytes: number,
      expiresAt: Date,
      limits: BufferLimits,
    ): Promise<BufferUsageCheck> {
      return db.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(hashtext(${`buffer-usage:${tenantId}`}))`.execute(trx);
        const at = new Date(now());
        const object = await trx
          .selectFrom('buffer_usage')
          .select((eb) => eb.fn.sum<string | number>('bytes').as('bytes'))
          .where('tenant_id', '=', tenantId)
          .where('object_id', '=', objectId)
          .where('chunk_index', '!=', index)
          .executeTakeFirst();
        const objectBytes = num(object?.bytes);
        if (objectBytes + bytes > limits.maxObjectBytes)
          return { ok: false, limit: 'object', usedBytes: objectBytes, maxBytes: limits.maxObjectBytes } as const;
        const tenant = await trx
          .selectFrom('buffer_usage')
          .select((eb) => [eb.fn.sum<string | number>('bytes').as('bytes'), eb.fn.min<Date>('expires_at').as('first')])
          .where('tenant_id', '=', tenantId)
          .where('expires_at', '>', at)
          .where((eb) => eb.or([eb('object_id', '!=', objectId), eb('chunk_index', '!=', index)]))
          .executeTakeFirst();
        const tenantBytes = num(tenant?.bytes);
        if (tenantBytes + bytes > limits.tenantQuotaBytes) {
          return {
            ok: false,
            limit: 'tenant',
            usedBytes: tenantBytes,
            maxBytes: limits.tenantQuotaBytes,
            freesAt: tenant?.first ? new Date(tenant.first) : undefined,
          } as const;
        }
        await trx
          .insertInto('buffer_usage')
          .values({ tenant_id: tenantId, object_id: objectId, chunk_index: index, bytes, expires_at: expiresAt })
          .onConflict((oc) =>
            oc.columns(['tenant_id', 'object_id', 'chunk_index']).doUpdateSet({ bytes, expires_at: expiresAt }),
          )
          .execute();
        return { ok: true } as const;
      });
    },

    /** Bytes a tenant holds in live objects. */
    async tenantBytes(tenantId: string): Promise<number> {
      const row = await db
        .selectFrom('buffer_usage')
        .select((eb) => eb.fn.sum<string | number>('bytes').as('bytes'))
        .where('tenant_id', '=', tenantId)
        .where('expires_at', '>', new Date(now()))
        .executeTakeFirst();
      return num(row?.bytes);
    },

    /** Forgets rows of objects that expired before `before` (they count for nothing already). */
    async forgetExpired(before: Date = new Date(now())): Promise<number> {
      const res = await db.deleteFrom('buffer_usage').where('expires_at', '<=', before).executeTakeFirst();
      return Number(res.numDeletedRows);
    },
  };
}
export type BufferUsage = ReturnType<typeof createBufferUsage>;
