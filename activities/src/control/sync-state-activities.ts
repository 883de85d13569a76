import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { BufferError, type DataBuffer } from '@vansales/buffer';
import {
  decideKey,
  decodeChunk,
  encodeChunk,
  keyText,
  parseObjectSchema,
  rowHash,
  comparableValue,
  type ConflictPolicy,
  type ObjectSchema,
  type RowVersion,
} from '@vansales/dataflow/sync-plan';
import { DefinitionRunErrorType, type SyncStateScope, type SyncStateStore } from '@vansales/definitions';

/** The buffer objects a plan writes (ids chosen by the workflow, so a retried plan writes the same ones). */
export interface SyncPlanObjects {
  toLeft: string;
  toRight: string;
  deleteLeft: string;
  deleteRight: string;
  state: string;
}

export interface SyncPlanInput {
  tenantId: string;
  definitionId: string;
  stepId: string;
  /** The rows of the differing ranges on each side (sync extracts). */
  left: string;
  right: string;
  keyColumns: string[];
  conflict: ConflictPolicy;
  deletes: boolean;
  outputs: SyncPlanObjects;
}

/** What a plan decided; an object is named only when it holds rows. */
export interface SyncPlanOutput {
  toLeft?: { objectId: string; rows: number };
  toRight?: { objectId: string; rows: number };
  deleteLeft?: { objectId: string; rows: number };
  deleteRight?: { objectId: string; rows: number };
  state?: { objectId: string; rows: number };
  /** Keys changed on both sides, settled by the conflict policy. */
  conflicts: number;
  /** Keys looked at (the rows of the differing ranges, both sides). */
  keys: number;
}

/**
 * The sync step's plan and its state (pattern 3.4.3): they need the buffer and the metadata store's
 * sync state, so the gateways serve them on the control queue (runs started without one call the
 * cloud worker's copies, which the harness gives a state store).
 */
export interface SyncStateActivities {
  /** How many keys the step remembers (0: the next run is a first sync and reads both tables whole). */
  syncStateCount(input: SyncStateScope): Promise<number>;
  syncPlan(input: SyncPlanInput): Promise<SyncPlanOutput>;
  /** Records the plan's state once both sides hold what it decided: the next run sees no difference (no echo). */
  syncCommitState(input: SyncStateScope & { objectId: string }): Promise<{ put: number; removed: number }>;
}

export interface SyncStateDeps {
  buffer: DataBuffer;
  state: SyncStateStore;
}

const refused = (message: string) =>
  ApplicationFailure.create({ type: DefinitionRunErrorType.datasetRefused, message, nonRetryable: true });

/** Whole buffer objects of a sync, read and written as the tenant the input names. */
export function syncObjects(deps: Pick<SyncStateDeps, 'buffer'>) {
  const manifestOf = async (tenantId: string, objectId: string) => {
    try {
      const manifest = await deps.buffer.readManifest(tenantId, objectId);
      if (manifest.tenantId !== tenantId) throw refused(`buffer object ${objectId} belongs to another tenant`);
      return { manifest, schema: parseObjectSchema(manifest.schema, objectId) };
    } catch (err) {
      if (err instanceof BufferError)
        throw refused(`buffer object ${objectId} is not a committed object of tenant ${tenantId}: ${err.message}`);
      throw err;
    }
  };
  const readAll = async (tenantId: string, objectId: string) => {
    const { manifest, schema } = await manifestOf(tenantId, objectId);
    const rows: unknown[][] = [];
    for (let i = 0; i < manifest.chunks.length; i++)
      rows.push(...(await decodeChunk(await deps.buffer.readChunk(tenantId, objectId, i))));
    return { schema, rows };
  };
  const writeObject = async (tenantId: string, objectId: string, schema: ObjectSchema, rows: unknown[][]) => {
    if (rows.length === 0) return undefined;
    await deps.buffer.createObject(tenantId, { objectId });
    const CHUNK = 20_000;
    let chunks = 0;
    for (let i = 0; i < rows.length; i += CHUNK) {
      const part = rows.slice(i, i + CHUNK);
      await deps.buffer.writeChunk(tenantId, objectId, chunks++, await encodeChunk(part), part.length);
    }
    await deps.buffer.commit(tenantId, objectId, { schema, chunkCount: chunks, rowCount: rows.length });
    return { objectId, rows: rows.length };
  };

  return { manifestOf, readAll, writeObject };
}

export function createSyncStateActivities(deps: SyncStateDeps): SyncStateActivities {
  const { readAll, writeObject } = syncObjects(deps);
  return {
    syncStateCount: (scope) => deps.state.count(scope),

    async syncPlan(input) {
      const left = await readAll(input.tenantId, input.left);
      const right = await readAll(input.tenantId, input.right);
      const k = input.keyColumns.length;
      const names = left.schema.columns.map((c) => c.name);
      // The right side's columns in the left side's order: the hash of equal rows is then equal.
      const at = names.map((n) => right.schema.columns.findIndex((c) => c.name === n));
      const missing = names.filter((_, i) => at[i]! < 0);
      if (missing.length > 0 || right.schema.columns.length !== names.length)
        throw refused(
          `the two sides of sync step ${input.stepId} do not have the same columns (${missing.length ? `right lacks ${missing.join(', ')}` : 'right has more'}): name the columns to sync in the step's columns`,
        );
      const rightColumns = at.map((i) => right.schema.columns[i]!);
      const stampAt = input.conflict.policy === 'last-writer-wins' ? names.indexOf(input.conflict.column) : -1;
      if (input.conflict.policy === 'last-writer-wins' && stampAt < 0)
        throw refused(
          `sync step ${input.stepId} settles conflicts by ${input.conflict.column}, which is not a synced column`,
        );
      type Seen = { row: unknown[]; version: RowVersion };
      const index = (columns: ObjectSchema['columns'], rows: unknown[][], project?: number[]) => {
        const map = new Map<string, Seen>();
        for (const raw of rows) {
          const row = project ? project.map((i) => raw[i]) : raw;
          map.set(keyText(columns, k, row), {
            row: raw,
            version: {
              hash: rowHash(columns, row),
              ...(stampAt >= 0 ? { stamp: comparableValue(columns[stampAt]!.type, row[stampAt]) } : {}),
            },
          });
        }
        return map;
      };
      const L = index(left.schema.columns, left.rows);
      const R = index(rightColumns, right.rows, at);
      const keys = [...new Set([...L.keys(), ...R.keys()])];
      const state = await deps.state.get({ ...input }, keys);
      const toLeft: unknown[][] = [];
      const toRight: unknown[][] = [];
      const deleteLeft: unknown[][] = [];
      const deleteRight: unknown[][] = [];
      const stateRows: unknown[][] = [];
      let conflicts = 0;
      for (const key of keys) {
        const l = L.get(key);
        const r = R.get(key);
        const agreed = state.get(key);
        const action = decideKey(l?.version, r?.version, agreed, input.conflict, input.deletes);
        if (action.kind === 'copy' && action.conflict) conflicts++;
        if (action.kind === 'copy')
          (action.from === 'left' ? toRight : toLeft).push((action.from === 'left' ? l : r)!.row);
        if (action.kind === 'delete')
          (action.on === 'left' ? deleteLeft : deleteRight).push((action.on === 'left' ? l : r)!.row.slice(0, k));
        if (action.agreed !== agreed) stateRows.push([key, action.agreed ?? null]);
      }
      const ctx = Context.current();
      ctx.heartbeat({ planned: keys.length });
      const keySchema = (s: ObjectSchema): ObjectSchema => ({
        columns: s.columns.slice(0, k),
        keyColumns: input.keyColumns,
        source: 'sync keys',
      });
      const stateSchema: ObjectSchema = {
        columns: [
          { name: 'row_key', type: { kind: 'text' }, nullable: false, nativeType: 'text' },
          { name: 'row_hash', type: { kind: 'text' }, nullable: true, nativeType: 'text' },
        ],
        keyColumns: ['row_key'],
        source: 'sync state',
      };
      const o = input.outputs;
      const [tl, tr, dl, dr, st] = [
        await writeObject(input.tenantId, o.toLeft, right.schema, toLeft),
        await writeObject(input.tenantId, o.toRight, left.schema, toRight),
        await writeObject(input.tenantId, o.deleteLeft, keySchema(left.schema), deleteLeft),
        await writeObject(input.tenantId, o.deleteRight, keySchema(right.schema), deleteRight),
        await writeObject(input.tenantId, o.state, stateSchema, stateRows),
      ];
      return {
        ...(tl ? { toLeft: tl } : {}),
        ...(tr ? { toRight: tr } : {}),
        ...(dl ? { deleteLeft: dl } : {}),
        ...(dr ? { deleteRight: dr } : {}),
        ...(st ? { state: st } : {}),
        conflicts,
        keys: keys.length,
      };
    },

    async syncCommitState(input) {
      const { rows } = await readAll(input.tenantId, input.objectId);
      const put: [string, string][] = [];
      const remove: string[] = [];
      for (const [key, hash] of rows as [unknown, unknown][]) {
        if (typeof key !== 'string' || (hash !== null && typeof hash !== 'string'))
          throw refused(`buffer object ${input.objectId} is not a sync state object`);
        if (hash === null) remove.push(key);
        else put.push([key, hash]);
      }
      await deps.state.apply(input, put, remove);
      return { put: put.length, removed: remove.length };
    },
  };
}
