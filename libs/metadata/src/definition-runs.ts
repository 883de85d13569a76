import { sql } from 'kysely';
import type { MetadataDb } from './open-database';

export interface DefinitionRunRow {
  tenantId: string;
  definitionId: string;
  version: number;
  workflowId: string;
  runKey: string;
  triggerKind: string;
  idempotencyKey: string | null;
  requestHash: string | null;
  startedBy: string;
  createdAt: Date;
  status: string;
  statusAt: Date;
}

/** The tenant-wide list's filters (issue 12 §2): every one optional, all combined with AND. */
export interface TenantRunFilters {
  status?: string;
  definitionId?: string;
  connectorId?: string;
  /** created_at >= since */
  since?: Date;
  /** created_at < until */
  until?: Date;
}

/**
 * A keyset position: the last row of the previous page (newest first, ties by workflow id).
 * `createdAt` is PostgreSQL's own text of the timestamp: a JS Date keeps milliseconds, the column
 * microseconds, and a cursor rounded to the millisecond would skip rows within that millisecond.
 */
export interface RunCursor {
  createdAt: string;
  workflowId: string;
}

export type ControlFlagScope = 'definition' | 'connector' | 'tenant';
export type ControlFlagState = 'paused' | 'stopped';

export interface ControlFlagRow {
  tenantId: string;
  scope: ControlFlagScope;
  targetId: string;
  state: ControlFlagState;
  setBy: string;
  reason: string;
  setAt: Date;
}

const runColumns = [
  'tenant_id',
  'definition_id',
  'version',
  'workflow_id',
  'run_key',
  'trigger_kind',
  'idempotency_key',
  'request_hash',
  'started_by',
  'created_at',
  'status',
  'status_at',
] as const;

type RunSelect = {
  tenant_id: string;
  definition_id: string;
  version: number;
  workflow_id: string;
  run_key: string;
  trigger_kind: string;
  idempotency_key: string | null;
  request_hash: string | null;
  started_by: string;
  created_at: Date;
  status: string;
  status_at: Date;
};
const toRun = (r: RunSelect): DefinitionRunRow => ({
  tenantId: r.tenant_id,
  definitionId: r.definition_id,
  version: Number(r.version),
  workflowId: r.workflow_id,
  runKey: r.run_key,
  triggerKind: r.trigger_kind,
  idempotencyKey: r.idempotency_key,
  requestHash: r.request_hash,
  startedBy: r.started_by,
  createdAt: new Date(r.created_at),
  status: r.status,
  statusAt: new Date(r.status_at),
});

/** Runs of definitions started through the control plane; every read is tenant-scoped. */
export function createDefinitionRunRepository(db: MetadataDb) {
  const get = async (tenantId: string, workflowId: string) => {
    const row = await db
      .selectFrom('definition_runs')
      .select(runColumns)
      .where('tenant_id', '=', tenantId)
      .where('workflow_id', '=', workflowId)
      .executeTakeFirst();
    return row && toRun(row);
  };
  return {
    get,

    async byIdempotencyKey(tenantId: string, definitionId: string, key: string) {
      const row = await db
        .selectFrom('definition_runs')
        .select(runColumns)
        .where('tenant_id', '=', tenantId)
        .where('definition_id', '=', definitionId)
        .where('idempotency_key', '=', key)
        .executeTakeFirst();
      return row && toRun(row);
    },

    /**
     * Records a run; when another request recorded one under the same idempotency key (or workflow
     * id) first, nothing is written and that run is returned with `created: false`.
     */
    async insert(run: Omit<DefinitionRunRow, 'createdAt' | 'status' | 'statusAt'> & { connectorIds?: string[] }) {
      const inserted = await db
        .insertInto('definition_runs')
        .values({
          tenant_id: run.tenantId,
          definition_id: run.definitionId,
          version: run.version,
          workflow_id: run.workflowId,
          run_key: run.runKey,
          trigger_kind: run.triggerKind,
          idempotency_key: run.idempotencyKey,
          request_hash: run.requestHash,
          started_by: run.startedBy,
        })
        .onConflict((oc) => oc.doNothing())
        .returning(runColumns)
        .executeTakeFirst();
      if (inserted) {
        if (run.connectorIds?.length)
          await db
            .insertInto('definition_run_connectors')
            .values(
              [...new Set(run.connectorIds)].map((connectorId) => ({
                tenant_id: run.tenantId,
                workflow_id: run.workflowId,
                connector_id: connectorId,
              })),
            )
            .onConflict((oc) => oc.doNothing())
            .execute();
        return { run: toRun(inserted), created: true };
      }
      const existing =
        (run.idempotencyKey !== null
          ? await this.byIdempotencyKey(run.tenantId, run.definitionId, run.idempotencyKey)
          : undefined) ?? (await get(run.tenantId, run.workflowId));
      if (!existing) throw new Error(`definition run ${run.workflowId} neither inserted nor found`);
      return { run: existing, created: false };
    },

    async list(tenantId: string, definitionId: string, options: { limit?: number; status?: string } = {}) {
      let q = db
        .selectFrom('definition_runs')
        .select(runColumns)
        .where('tenant_id', '=', tenantId)
        .where('definition_id', '=', definitionId);
      if (options.status) q = q.where('status', '=', options.status);
      const rows = await q
        .orderBy('created_at', 'desc')
        .limit(options.limit ?? 100)
        .execute();
      return rows.map(toRun);
    },

    /**
     * Every run of a tenant, newest first, one page after `after` (keyset: the indexes of migration
     * 0020 serve it, so a late page costs what the first one does).
     */
    async listTenant(
      tenantId: string,
      filters: TenantRunFilters,
      page: { limit: number; after?: RunCursor },
    ): Promise<Array<DefinitionRunRow & { connectorIds: string[]; cursor: RunCursor }>> {
      let q = db
        .selectFrom('definition_runs')
        .select(runColumns)
        .select(sql<string>`created_at::text`.as('cursor_at'))
        .where('tenant_id', '=', tenantId);
      if (filters.status) q = q.where('status', '=', filters.status);
      if (filters.definitionId) q = q.where('definition_id', '=', filters.definitionId);
      if (filters.since) q = q.where('created_at', '>=', filters.since);
      if (filters.until) q = q.where('created_at', '<', filters.until);
      if (filters.connectorId)
        q = q.where('workflow_id', 'in', (sub) =>
          sub
            .selectFrom('definition_run_connectors')
            .select('workflow_id')
            .where('tenant_id', '=', tenantId)
            .where('connector_id', '=', filters.connectorId!),
        );
      const after = page.after;
      if (after)
        q = q.where((eb) =>
          eb.or([
            eb('created_at', '<', sql<Date>`${after.createdAt}::timestamptz`),
            eb.and([
              eb('created_at', '=', sql<Date>`${after.createdAt}::timestamptz`),
              eb('workflow_id', '<', after.workflowId),
            ]),
          ]),
        );
      const rows = (
        await q.orderBy('created_at', 'desc').orderBy('workflow_id', 'desc').limit(page.limit).execute()
      ).map((r) => ({ ...toRun(r), cursor: { createdAt: r.cursor_at, workflowId: r.workflow_id } }));
      const ids = rows.map((r) => r.workflowId);
      const links = ids.length
        ? await db
            .selectFrom('definition_run_connectors')
            .select(['workflow_id', 'connector_id'])
            .where('tenant_id', '=', tenantId)
            .where('workflow_id', 'in', ids)
            .execute()
        : [];
      return rows.map((r) => ({
        ...r,
        connectorIds: links.filter((l) => l.workflow_id === r.workflowId).map((l) => l.connector_id),
      }));
    },

    async cacheStatus(tenantId: string, workflowId: string, status: string): Promise<void> {
      await db
        .updateTable('definition_runs')
        .set({ status, status_at: new Date() })
        .where('tenant_id', '=', tenantId)
        .where('workflow_id', '=', workflowId)
        .execute();
    },
  };
}
export type DefinitionRunRepository = ReturnType<typeof createDefinitionRunRepository>;

type FlagSelect = {
  tenant_id: string;
  scope: ControlFlagScope;
  target_id: string;
  state: ControlFlagState;
  set_by: string;
  reason: string;
  set_at: Date;
};
const toFlag = (r: FlagSelect): ControlFlagRow => ({
  tenantId: r.tenant_id,
  scope: r.scope,
  targetId: r.target_id,
  state: r.state,
  setBy: r.set_by,
  reason: r.reason,
  setAt: new Date(r.set_at),
});
const flagColumns = ['tenant_id', 'scope', 'target_id', 'state', 'set_by', 'reason', 'set_at'] as const;

/** Control flags (pause, emergency stop) per definition, connector or tenant; tenant-scoped. */
export function createControlFlagRepository(db: MetadataDb) {
  return {
    async list(tenantId: string): Promise<ControlFlagRow[]> {
      const rows = await db
        .selectFrom('control_flags')
        .select(flagColumns)
        .where('tenant_id', '=', tenantId)
        .orderBy('set_at')
        .execute();
      return rows.map(toFlag);
    },

    /** Sets (or replaces) the flag of one target; returns the flag it replaced, if any. */
    async set(flag: Omit<ControlFlagRow, 'setAt'>): Promise<{ flag: ControlFlagRow; previous?: ControlFlagRow }> {
      return db.transaction().execute(async (trx) => {
        const before = await trx
          .selectFrom('control_flags')
          .select(flagColumns)
          .where('tenant_id', '=', flag.tenantId)
          .where('scope', '=', flag.scope)
          .where('target_id', '=', flag.targetId)
          .forUpdate()
          .executeTakeFirst();
        const values = {
          tenant_id: flag.tenantId,
          scope: flag.scope,
          target_id: flag.targetId,
          state: flag.state,
          set_by: flag.setBy,
          reason: flag.reason,
          set_at: new Date(),
        };
        const row = await trx
          .insertInto('control_flags')
          .values(values)
          .onConflict((oc) =>
            oc.columns(['tenant_id', 'scope', 'target_id']).doUpdateSet({
              state: values.state,
              set_by: values.set_by,
              reason: values.reason,
              set_at: values.set_at,
            }),
          )
          .returning(flagColumns)
          .executeTakeFirstOrThrow();
        return { flag: toFlag(row), previous: before && toFlag(before) };
      });
    },

    /** Removes the flag of one target; returns it, or undefined when there was none. */
    async clear(tenantId: string, scope: ControlFlagScope, targetId: string): Promise<ControlFlagRow | undefined> {
      const row = await db
        .deleteFrom('control_flags')
        .where('tenant_id', '=', tenantId)
        .where('scope', '=', scope)
        .where('target_id', '=', targetId)
        .returning(flagColumns)
        .executeTakeFirst();
      return row && toFlag(row);
    },
  };
}
export type ControlFlagRepository = ReturnType<typeof createControlFlagRepository>;
