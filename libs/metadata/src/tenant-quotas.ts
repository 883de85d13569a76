import type { MetadataDb } from './open-database';

/** The limits a tenant overrides, by quota name (the gateway names and checks them). */
export type QuotaOverrides = Record<string, number>;

export interface StoredQuotaOverrides {
  limits: QuotaOverrides;
  updatedBy: string;
  updatedAt: Date;
}

/** Per-tenant quota overrides (migration 0018-tenant-quotas); shared by every gateway node. */
export function createTenantQuotaRepository(db: MetadataDb) {
  return {
    async get(tenantId: string): Promise<StoredQuotaOverrides | undefined> {
      const row = await db
        .selectFrom('tenant_quotas')
        .select(['limits', 'updated_by', 'updated_at'])
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      if (!row) return undefined;
      return { limits: JSON.parse(row.limits) as QuotaOverrides, updatedBy: row.updated_by, updatedAt: row.updated_at };
    },
    /** Replaces the tenant's overrides (an empty object: the defaults again). */
    async put(tenantId: string, limits: QuotaOverrides, updatedBy: string): Promise<void> {
      const values = { tenant_id: tenantId, limits: JSON.stringify(limits), updated_by: updatedBy };
      await db
        .insertInto('tenant_quotas')
        .values(values)
        .onConflict((oc) =>
          oc.column('tenant_id').doUpdateSet({ limits: values.limits, updated_by: updatedBy, updated_at: new Date() }),
        )
        .execute();
    },
  };
}
export type TenantQuotaRepository = ReturnType<typeof createTenantQuotaRepository>;
