import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import jsonata from 'jsonata';
import { BufferError, type BufferManifest, type DataBuffer } from '@vansales/buffer';
import { decodeChunk, encodeChunk, parseObjectSchema, type ObjectSchema } from '@vansales/dataflow';
import {
  DefinitionRunErrorType,
  MAX_STEP_VALUE_BYTES,
  type DatasetRef,
  type DefinitionCloudActivities,
  type DefinitionInterpreterActivities,
  type DefinitionStore,
} from '@vansales/definitions';
import { loadDefinitionVersionFrom } from '../control/definition-control-activities';

/** The interpreter's dataset and expression activities (the contract's merge/split/condition, plus its own). */
export type DefinitionActivities = Pick<
  DefinitionCloudActivities,
  'mergeDatasets' | 'splitDataset' | 'evaluateCondition'
> &
  DefinitionInterpreterActivities;

/** Parts a split may make: their references come back through Temporal history (about 100 bytes each). */
export const MAX_SPLIT_PARTS = 5_000;
/** Distinct keys a deduplicating merge remembers (as 16-byte digests, so memory stays bounded by count). */
export const MAX_DEDUPE_KEYS = 5_000_000;
/** Rows per chunk the split writes. */
const SPLIT_CHUNK_ROWS = 50_000;

export interface DefinitionActivityDeps {
  buffer: DataBuffer;
  store: DefinitionStore;
}

const refused = (message: string) =>
  ApplicationFailure.create({ type: DefinitionRunErrorType.datasetRefused, message, nonRetryable: true });

/** A JSON value's size as the workflow would store it. */
function jsonBytes(value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

function boundedContext(context: unknown, what: string): void {
  if (jsonBytes(context) > MAX_STEP_VALUE_BYTES)
    throw ApplicationFailure.create({
      type: DefinitionRunErrorType.valueTooLarge,
      message: `${what} is larger than ${MAX_STEP_VALUE_BYTES} bytes; keep data in datasets and pass small values`,
      nonRetryable: true,
    });
}

/** A JSONata expression over a bounded JSON context; parse and evaluation errors are the author's to fix. */
export async function evaluateJsonata(expression: string, context: unknown): Promise<unknown> {
  boundedContext(context, 'the expression context');
  let compiled: ReturnType<typeof jsonata>;
  try {
    compiled = jsonata(expression);
  } catch (err) {
    throw ApplicationFailure.create({
      type: DefinitionRunErrorType.badExpression,
      message: `the expression does not parse: ${(err as Error).message}`,
      nonRetryable: true,
    });
  }
  try {
    return (await compiled.evaluate(context)) as unknown;
  } catch (err) {
    throw ApplicationFailure.create({
      type: DefinitionRunErrorType.badExpression,
      message: `the expression failed: ${(err as Error).message}`,
      nonRetryable: true,
    });
  }
}

/** JSONata's truthiness: an empty sequence (undefined, []) is false. */
export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(truthy);
  return !!value;
}

/**
 * Cloud activities the interpreter calls for itself: concatenating (and deduplicating) datasets,
 * splitting one into parts for a for-each, evaluating conditions and expressions, and reading a
 * called definition. Every buffer object is opened as the tenant the input names, and its manifest
 * must say the same tenant: an object id lifted from another tenant's run is refused, not read.
 */
export function createDefinitionActivities(deps: DefinitionActivityDeps): DefinitionActivities {
  const open = async (
    tenantId: string,
    ref: DatasetRef,
  ): Promise<{ manifest: BufferManifest; schema: ObjectSchema }> => {
    let manifest: BufferManifest;
    try {
      manifest = await deps.buffer.readManifest(tenantId, ref.objectId);
    } catch (err) {
      if (err instanceof BufferError)
        throw refused(`dataset ${ref.objectId} is not a committed buffer object of tenant ${tenantId}: ${err.message}`);
      throw err;
    }
    if (manifest.tenantId !== tenantId) throw refused(`dataset ${ref.objectId} belongs to another tenant`);
    return { manifest, schema: parseObjectSchema(manifest.schema, ref.objectId) };
  };

  const rowsOf = async (tenantId: string, objectId: string, index: number) =>
    decodeChunk(await deps.buffer.readChunk(tenantId, objectId, index));

  return {
    async mergeDatasets(input) {
      const ctx = Context.current();
      if (input.inputs.length === 0) throw refused('a merge needs at least one dataset');
      const opened = [];
      for (const ref of input.inputs) opened.push(await open(input.tenantId, ref));
      // The union of the inputs' columns, in first-seen order; a column an input lacks is null there.
      const columns: ObjectSchema['columns'] = [];
      const position = new Map<string, number>();
      for (const { schema } of opened)
        for (const c of schema.columns)
          if (!position.has(c.name)) {
            position.set(c.name, columns.length);
            columns.push(c);
          }
      const keyColumns = input.dedupeKey ?? opened[0]!.schema.keyColumns.filter((k) => position.has(k));
      for (const k of keyColumns)
        if (!position.has(k)) throw refused(`the dedupe key column ${k} is in none of the merged datasets`);
      const keyAt = keyColumns.map((k) => position.get(k)!);

      await deps.buffer.createObject(input.tenantId, { objectId: input.outputObjectId });
      const seen = new Set<string>();
      let chunk = 0;
      let rows = 0;
      for (const [n, { manifest, schema }] of opened.entries()) {
        const map = schema.columns.map((c) => position.get(c.name)!);
        const same = map.length === columns.length && map.every((p, i) => p === i);
        for (let i = 0; i < manifest.chunks.length; i++) {
          let out = await rowsOf(input.tenantId, manifest.objectId, i);
          if (!same)
            out = out.map((row) => {
              const projected = new Array<unknown>(columns.length).fill(null);
              map.forEach((p, j) => (projected[p] = row[j]));
              return projected;
            });
          if (input.dedupeKey) {
            out = out.filter((row) => {
              // A digest per key, not the key: memory grows with the count of keys, not their size.
              const digest = createHash('sha256')
                .update(JSON.stringify(keyAt.map((p) => row[p])))
                .digest()
                .subarray(0, 16)
                .toString('latin1');
              if (seen.has(digest)) return false;
              if (seen.size >= MAX_DEDUPE_KEYS)
                throw refused(`a deduplicating merge remembers at most ${MAX_DEDUPE_KEYS} keys; dedupe in a transform`);
              seen.add(digest);
              return true;
            });
          }
          if (out.length === 0) continue;
          await deps.buffer.writeChunk(
            input.tenantId,
            input.outputObjectId,
            chunk++,
            await encodeChunk(out),
            out.length,
          );
          rows += out.length;
          ctx.heartbeat({ input: n, chunk: i });
        }
      }
      const schema: ObjectSchema = { columns, keyColumns, source: 'merge' };
      await deps.buffer.commit(input.tenantId, input.outputObjectId, { schema, chunkCount: chunk, rowCount: rows });
      return { objectId: input.outputObjectId, rows, columns: columns.map((c) => c.name), writtenBy: 'cloud' };
    },

    async splitDataset(input) {
      const ctx = Context.current();
      const { manifest, schema } = await open(input.tenantId, input.input);
      const parts = Math.ceil(manifest.rowCount / input.size);
      if (parts > MAX_SPLIT_PARTS)
        throw ApplicationFailure.create({
          type: DefinitionRunErrorType.tooManyParts,
          message: `${manifest.rowCount} rows in parts of ${input.size} make ${parts} parts; a for-each takes at most ${MAX_SPLIT_PARTS}: use larger batches`,
          nonRetryable: true,
        });
      const refs: DatasetRef[] = [];
      const columns = schema.columns.map((c) => c.name);
      let pending: unknown[][] = [];
      let partRows = 0;
      let partChunk = 0;
      const objectId = () => `${input.outputPrefix}${refs.length}`;
      const flush = async (commit: boolean) => {
        if (pending.length > 0) {
          if (partChunk === 0) await deps.buffer.createObject(input.tenantId, { objectId: objectId() });
          await deps.buffer.writeChunk(
            input.tenantId,
            objectId(),
            partChunk++,
            await encodeChunk(pending),
            pending.length,
          );
          pending = [];
        }
        if (commit && partRows > 0) {
          await deps.buffer.commit(input.tenantId, objectId(), { schema, chunkCount: partChunk, rowCount: partRows });
          refs.push({ objectId: objectId(), rows: partRows, columns, writtenBy: 'cloud' });
          partRows = 0;
          partChunk = 0;
        }
      };
      for (let i = 0; i < manifest.chunks.length; i++) {
        for (const row of await rowsOf(input.tenantId, manifest.objectId, i)) {
          pending.push(row);
          partRows++;
          if (partRows === input.size) await flush(true);
          else if (pending.length >= SPLIT_CHUNK_ROWS) await flush(false);
        }
        ctx.heartbeat({ chunk: i });
      }
      await flush(true);
      return refs;
    },

    async evaluateCondition(input) {
      return truthy(await evaluateJsonata(input.expression, input.context));
    },

    async evaluateExpression(input) {
      const value = await evaluateJsonata(input.expression, input.context);
      if (jsonBytes(value) > MAX_STEP_VALUE_BYTES)
        throw ApplicationFailure.create({
          type: DefinitionRunErrorType.valueTooLarge,
          message: `the expression's result is larger than ${MAX_STEP_VALUE_BYTES} bytes`,
          nonRetryable: true,
        });
      // JSON only: JSONata sequences and functions do not cross into workflow history.
      return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as unknown);
    },

    // Runs started with a control queue read definitions there (the gateway's store); older ones here.
    loadDefinitionVersion: (input) => loadDefinitionVersionFrom(deps.store, input),
  };
}
