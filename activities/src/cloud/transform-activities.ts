import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { AgentErrorType } from '@vansales/protocol';
import { BufferError, OBJECT_ID_PATTERN, type DataBuffer } from '@vansales/buffer';
import {
  DataflowError,
  decodeChunk,
  encodeChunk,
  failureTypeOf,
  parseObjectSchema,
  type ColumnSpec,
  type ObjectSchema,
} from '@vansales/dataflow';
import {
  DatasetRef,
  TransformOp,
  type DefinitionCloudActivities,
  type TransformDatasetInput,
} from '@vansales/definitions';
import {
  TransformError,
  TransformErrorCode,
  compileExpression,
  outputFields,
  parseTransformLimits,
  runTransform,
  SpillArea,
  type Batches,
  type TransformLimitsInput,
  type TransformRecord,
} from '@vansales/transforms';
import { z } from 'zod';

/** Failure types of the transform activity (one table): what a definition's retry policy can name. */
export const TransformFailureType = {
  /** The transform itself is wrong (an expression that does not parse, a script without transform()). */
  badTransform: 'TransformInvalid',
  /** A record the transform cannot process (named by number and field in the message). */
  badRecord: 'TransformBadRecord',
  /** The script went past its time or memory limit. */
  scriptLimit: 'TransformScriptLimit',
} as const;

const ROWS_PER_CHUNK = 50_000;

export type TransformActivities = Pick<DefinitionCloudActivities, 'transformDataset'>;

/**
 * Object ids as the buffer issues them (newObjectId is base64url: it has - and _, which
 * DatasetRef's pattern lacks): the buffer is the authority on its ids.
 */
const ObjectId = z.string().regex(OBJECT_ID_PATTERN, 'not a buffer object id');
const Ref = DatasetRef.extend({ objectId: ObjectId });
const Input = z.object({
  tenantId: z.string().min(1).max(64),
  transform: TransformOp,
  inputs: z.object({ left: Ref, right: Ref.optional() }),
  outputObjectId: ObjectId,
});

function failure(err: unknown): Error {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof TransformError) {
    const type =
      err.code === TransformErrorCode.badRecord
        ? TransformFailureType.badRecord
        : err.code === TransformErrorCode.scriptTimeout || err.code === TransformErrorCode.scriptMemory
          ? TransformFailureType.scriptLimit
          : TransformFailureType.badTransform;
    return ApplicationFailure.create({ type, message: err.message, nonRetryable: true });
  }
  if (err instanceof BufferError)
    return ApplicationFailure.create({ type: AgentErrorType.bufferRefused, message: err.message, nonRetryable: true });
  if (err instanceof DataflowError)
    return ApplicationFailure.create({
      type: failureTypeOf(err.code),
      message: err.message,
      nonRetryable: !err.retryable,
    });
  return err instanceof Error ? err : new Error(String(err));
}

const TYPE_OF_COERCE: Record<string, ColumnSpec['type']> = {
  string: { kind: 'text' },
  integer: { kind: 'integer', bits: 64 },
  number: { kind: 'float', bits: 64 },
  boolean: { kind: 'boolean' },
  date: { kind: 'date' },
  timestamp: { kind: 'timestamp', withTimeZone: true },
  json: { kind: 'json', binary: true },
};

/** What values a column of unknown type held: its type is the narrowest that takes them all. */
class SeenKinds {
  private kinds = new Map<string, Set<string>>();
  add(name: string, v: unknown): void {
    if (v === null || v === undefined) return;
    const kind =
      typeof v === 'number'
        ? Number.isSafeInteger(v)
          ? 'integer'
          : 'float'
        : typeof v === 'object'
          ? 'json'
          : typeof v;
    let set = this.kinds.get(name);
    if (!set) this.kinds.set(name, (set = new Set()));
    set.add(kind);
  }
  type(name: string): ColumnSpec['type'] {
    const set = this.kinds.get(name) ?? new Set(['string']);
    if (set.size === 1 && set.has('string')) return { kind: 'text' };
    if (set.size === 1 && set.has('boolean')) return { kind: 'boolean' };
    if ([...set].every((k) => k === 'integer')) return { kind: 'integer', bits: 64 };
    if ([...set].every((k) => k === 'integer' || k === 'float')) return { kind: 'float', bits: 64 };
    return { kind: 'json', binary: true };
  }
}

/** A plain field name when the expression is just that field (its column's type carries over). */
function fieldOf(expression: string): string | undefined {
  try {
    const ast = compileExpression(expression, { compile: false }).jsonata.ast() as {
      type?: string;
      steps?: { type?: string; value?: unknown }[];
    };
    if (ast.type === 'path' && ast.steps?.length === 1 && ast.steps[0]!.type === 'name')
      return String(ast.steps[0]!.value);
  } catch {
    // the transform run reports a bad expression
  }
  return undefined;
}

/**
 * The cloud's transform step: reads the input buffer object(s) chunk by chunk, runs the transform
 * engine over them (bounded memory, spilling to the worker's temp folder), writes the output object
 * under the id the workflow chose (a retry rewrites the same object; once committed, a retry
 * returns it), and returns its reference. Objects are read under the input's tenant only, and the
 * manifest must say that tenant: another tenant's object id is refused, never read.
 */
export function createTransformActivities(deps: {
  buffer: DataBuffer;
  limits?: TransformLimitsInput;
}): TransformActivities {
  const limits = parseTransformLimits(deps.limits ?? {});

  const open = async (tenantId: string, ref: { objectId: string }) => {
    const manifest = await deps.buffer.readManifest(tenantId, ref.objectId);
    if (manifest.tenantId !== tenantId)
      throw ApplicationFailure.create({
        type: AgentErrorType.bufferRefused,
        message: `buffer object ${ref.objectId} is not tenant ${tenantId}'s`,
        nonRetryable: true,
      });
    const schema = parseObjectSchema(manifest.schema, ref.objectId);
    return { manifest, schema };
  };

  return {
    async transformDataset(raw: TransformDatasetInput) {
      const ctx = Context.current();
      let spill: SpillArea | undefined;
      try {
        const parsed = Input.safeParse(raw);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw ApplicationFailure.create({
            type: TransformFailureType.badTransform,
            message: `transformDataset input ${issue.path.join('.')}: ${issue.message}`,
            nonRetryable: true,
          });
        }
        const input = parsed.data;
        const { tenantId, transform: op } = input;

        // A retry after a commit whose result was lost: the object is the answer.
        const done = await deps.buffer.readManifest(tenantId, input.outputObjectId).catch(() => undefined);
        if (done) {
          const schema = parseObjectSchema(done.schema, input.outputObjectId);
          return {
            objectId: input.outputObjectId,
            rows: done.rowCount,
            columns: schema.columns.map((c) => c.name),
            writtenBy: 'cloud' as const,
          };
        }

        const left = await open(tenantId, input.inputs.left);
        const right = input.inputs.right ? await open(tenantId, input.inputs.right) : undefined;
        if (op.op === 'join' && !right)
          throw ApplicationFailure.create({
            type: TransformFailureType.badTransform,
            message: 'a join needs two inputs: connect a dataset to its right port',
            nonRetryable: true,
          });

        let rowsIn = 0;
        const read = async function* (
          ref: DatasetRef,
          opened: { manifest: { chunks: unknown[] }; schema: ObjectSchema },
        ): Batches {
          const names = opened.schema.columns.map((c) => c.name);
          for (let i = 0; i < opened.manifest.chunks.length; i++) {
            const rows = await decodeChunk(await deps.buffer.readChunk(tenantId, ref.objectId, i));
            const batch: TransformRecord[] = new Array(rows.length);
            for (let r = 0; r < rows.length; r++) {
              const row = rows[r]!;
              // No prototype: a column named __proto__ (manifests are untrusted) stays a plain field.
              const record = Object.create(null) as TransformRecord;
              for (let c = 0; c < names.length; c++) record[names[c]!] = row[c] ?? null;
              batch[r] = record;
            }
            rowsIn += rows.length;
            yield batch;
          }
        };

        const inputColumns = new Map<string, ColumnSpec>();
        for (const c of [...left.schema.columns, ...(right?.schema.columns ?? [])])
          if (!inputColumns.has(c.name)) inputColumns.set(c.name, c);
        const numericFields = [...inputColumns.values()]
          .filter((c) => c.type.kind === 'decimal' || (c.type.kind === 'integer' && c.type.bits === 64))
          .map((c) => c.name);

        const output = runTransform(
          op,
          { left: read(input.inputs.left, left), right: right && read(input.inputs.right!, right) },
          {
            limits,
            numericFields,
            buildSide: right && right.manifest.rowCount > left.manifest.rowCount ? 'left' : 'right',
          },
        );

        // A script's fields are known only from its records: they go to a spill file first.
        let fields = outputFields(
          op,
          left.schema.columns.map((c) => c.name),
          right?.schema.columns.map((c) => c.name),
        );
        let records: Batches = output;
        if (!fields) {
          spill = await SpillArea.open(limits.spillDir);
          const file = spill.file();
          const seen = new Set<string>();
          for await (const batch of output)
            for (const r of batch) {
              for (const k of Object.keys(r)) seen.add(k);
              await file.write(r);
            }
          await file.end();
          fields = [...seen];
          records = (async function* () {
            let batch: TransformRecord[] = [];
            for await (const r of file.read<TransformRecord>()) {
              batch.push(r);
              if (batch.length >= limits.batchRecords) {
                yield batch;
                batch = [];
              }
            }
            if (batch.length) yield batch;
          })();
        }
        if (fields.length === 0)
          throw ApplicationFailure.create({
            type: TransformFailureType.badTransform,
            message: 'the transform gives records without any field',
            nonRetryable: true,
          });

        await deps.buffer.createObject(tenantId, { objectId: input.outputObjectId });
        const seen = new SeenKinds();
        let pending: unknown[][] = [];
        let chunks = 0;
        let rowsOut = 0;
        const flush = async () => {
          if (pending.length === 0) return;
          const rows = pending;
          pending = [];
          await deps.buffer.writeChunk(tenantId, input.outputObjectId, chunks++, await encodeChunk(rows), rows.length);
          rowsOut += rows.length;
          ctx.heartbeat({ objectId: input.outputObjectId, rowsIn, rowsOut, chunks });
        };
        const width = fields.length;
        for await (const batch of records) {
          for (const r of batch) {
            const row = new Array<unknown>(width);
            for (let c = 0; c < width; c++) {
              const v = r[fields[c]!];
              row[c] = v === undefined ? null : v;
              seen.add(fields[c]!, v);
            }
            pending.push(row);
          }
          if (pending.length >= ROWS_PER_CHUNK) await flush();
          ctx.heartbeat({ objectId: input.outputObjectId, rowsIn, rowsOut, chunks });
        }
        await flush();

        const schema = outputSchema(op, fields, inputColumns, left.schema, seen);
        await deps.buffer.commit(tenantId, input.outputObjectId, { schema, chunkCount: chunks, rowCount: rowsOut });
        return { objectId: input.outputObjectId, rows: rowsOut, columns: fields, writtenBy: 'cloud' as const };
      } catch (err) {
        throw failure(err);
      } finally {
        await spill?.close();
      }
    },
  };

  function outputSchema(
    op: TransformOp,
    fields: string[],
    inputColumns: Map<string, ColumnSpec>,
    leftSchema: ObjectSchema,
    seen: SeenKinds,
  ): ObjectSchema {
    const carried = (name: string, from = name): ColumnSpec | undefined => {
      const c = inputColumns.get(from);
      return c ? { ...c, name, nullable: true } : undefined;
    };
    const inferred = (name: string): ColumnSpec => ({ name, type: seen.type(name), nullable: true, nativeType: '' });
    const columns = fields.map((name): ColumnSpec => {
      switch (op.op) {
        case 'map': {
          const from = fieldOf(op.fields[name]!);
          const c = from ? carried(name, from) : undefined;
          return c && seen.type(name).kind !== 'json' ? c : inferred(name);
        }
        case 'coerce':
          return op.types[name]
            ? { name, type: TYPE_OF_COERCE[op.types[name]!]!, nullable: true, nativeType: '' }
            : (carried(name) ?? inferred(name));
        case 'aggregate': {
          const m = op.measures[name];
          if (!m) return carried(name) ?? inferred(name);
          if (m.fn === 'count') return { name, type: { kind: 'integer', bits: 64 }, nullable: false, nativeType: '' };
          if (m.fn === 'sum' || m.fn === 'avg')
            return { name, type: { kind: 'float', bits: 64 }, nullable: true, nativeType: '' };
          return (m.field && carried(name, m.field)) || inferred(name);
        }
        case 'script':
          return inferred(name);
        default:
          return carried(name) ?? inferred(name);
      }
    });
    const keyColumns =
      op.op === 'aggregate'
        ? op.groupBy
        : op.op === 'dedupe'
          ? op.key
          : op.op === 'filter' || op.op === 'sort' || op.op === 'coerce'
            ? leftSchema.keyColumns
            : [];
    return {
      columns,
      keyColumns: keyColumns.filter((k) => fields.includes(k)),
      ...(leftSchema.dialect ? { dialect: leftSchema.dialect } : {}),
    };
  }
}
