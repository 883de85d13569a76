import type { SyncStateScope, SyncStateStore } from '@vansales/definitions';
import type { MetadataDb } from './open-database';

/** Keys per statement (bind parameters stay far below PostgreSQL's 65,535). */
const BATCH = 2000;

/** The state of sync steps (migration 0010-sync-state): key -> the row hash both sides agreed on. */
export function createSyncStateRepository(db: MetadataDb): SyncStateStore {
  const scoped = (scope: SyncStateScope) =>
    db
      .selectFrom('sync_state')
      .where('tenant_id', '=', scope.tenantId)
      .where('definition_id', '=', scope.definitionId)
      .where('step_id', '=', scope.stepId);
  return {
    async count(scope) {
      const row = await scoped(scope)
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async get(scope, keys) {
      const out = new Map<string, string>();
      for (let i = 0; i < keys.length; i += BATCH) {
        const rows = await scoped(scope)
          .select(['row_key', 'row_hash'])
          .where('row_key', 'in', keys.slice(i, i + BATCH))
          .execute();
        for (const r of rows) out.set(r.row_key, r.row_hash);
      }
      return out;
    },
    async apply(scope, put, remove) {
      await db.transaction().execute(async (tx) => {
        for (let i = 0; i < remove.length; i += BATCH)
          await tx
            .deleteFrom('sync_state')
            .where('tenant_id', '=', scope.tenantId)
            .where('definition_id', '=', scope.definitionId)
            .where('step_id', '=', scope.stepId)
            .where('row_key', 'in', remove.slice(i, i + BATCH))
            .execute();
        for (let i = 0; i < put.length; i += BATCH)
          await tx
            .insertInto('sync_state')
            .values(
              put.slice(i, i + BATCH).map(([key, hash]) => ({
                tenant_id: scope.tenantId,
                definition_id: scope.definitionId,
                step_id: scope.stepId,
                row_key: key,
                row_hash: hash,
              })),
            )
            .onConflict((oc) =>
              oc.columns(['tenant_id', 'definition_id', 'step_id', 'row_key']).doUpdateSet((eb) => ({
                row_hash: eb.ref('excluded.row_hash'),
              })),
            )
            .execute();
      });
    },
  };
}
