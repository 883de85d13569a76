import type { SourceCursorRef, SourceCursorStore } from '@vansales/definitions';
import type { MetadataDb } from './open-database';

/**
 * The cursors of incremental sources between runs (SourceCursorStore). A cursor is returned only
 * for the source it was reached on: a step that now reads something else gets none (a full read).
 */
export function createSourceCursorRepository(db: MetadataDb): SourceCursorStore {
  return {
    async read(tenantId, definitionId, sources: SourceCursorRef[]) {
      if (sources.length === 0) return {};
      const rows = await db
        .selectFrom('source_cursors')
        .select(['step_id', 'source_key', 'value'])
        .where('tenant_id', '=', tenantId)
        .where('definition_id', '=', definitionId)
        .where(
          'step_id',
          'in',
          sources.map((s) => s.stepId),
        )
        .execute();
      const wanted = new Map(sources.map((s) => [s.stepId, s.sourceKey]));
      const found: Record<string, unknown> = {};
      for (const row of rows) if (wanted.get(row.step_id) === row.source_key) found[row.step_id] = row.value;
      return found;
    },

    async save(tenantId, definitionId, runId, cursors) {
      if (cursors.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (const c of cursors) {
          const value = JSON.stringify(c.value);
          await trx
            .insertInto('source_cursors')
            .values({
              tenant_id: tenantId,
              definition_id: definitionId,
              step_id: c.stepId,
              source_key: c.sourceKey,
              value,
              run_id: runId,
            })
            .onConflict((oc) =>
              oc.columns(['tenant_id', 'definition_id', 'step_id']).doUpdateSet({
                source_key: c.sourceKey,
                value,
                run_id: runId,
                updated_at: new Date(),
              }),
            )
            .execute();
        }
      });
    },
  };
}
