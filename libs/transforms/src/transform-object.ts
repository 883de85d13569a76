import type { TransformOp } from '@vansales/definitions';
import { decodeChunk, encodeChunk, type ColumnSpec, type ObjectSchema } from '@vansales/dataflow';
import { outputFields, runTransform, type Batches } from './engine';
import { compileExpression, type TransformRecord } from './expression';
import { TransformError, TransformErrorCode } from './errors';
import type { TransformLimits } from './limits';
import { SpillArea } from './internal/spill';

/**
 * One transform over buffer objects, wherever it runs: the cloud's transformDataset reads the
 * buffer directly, the agent's data.transform through the gateway's buffer routes with its grants.
 * Both hand this the same two ends, so the engine, the output's chunking and its schema are one code.
 */

/** An input object: its schema and a reader of its encoded chunks. */
export interface ObjectReader {
  schema: ObjectSchema;
  rowCount: number;
  chunkCount: number;
  chunk(index: number): Promise<Buffer>;
}

/** Where the output object goes (its id is the caller's). */
export interface ObjectWriter {
  /** Called once, before the first chunk (the cloud creates the object then). */
  open?(): Promise<void>;
  chunk(index: number, bytes: Buffer, rows: number): Promise<void>;
  commit(body: { schema: ObjectSchema; chunkCount: number; rowCount: number }): Promise<void>;
}

export interface TransformProgress {
  rowsIn: number;
  rowsOut: number;
  chunks: number;
}

export interface TransformObjectOptions {
  limits: TransformLimits;
  /** Called after each batch: the caller heartbeats with it. */
  progress?(p: TransformProgress): void;
  rowsPerChunk?: number;
}

const ROWS_PER_CHUNK = 50_000;

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
 * Runs `op` over the input object(s) chunk by chunk (bounded memory, spilling a script's output to
 * the limits' temp folder) and writes the output object. Throws TransformError for a bad transform.
 */
export async function transformObjects(
  op: TransformOp,
  inputs: { left: ObjectReader; right?: ObjectReader },
  output: ObjectWriter,
  options: TransformObjectOptions,
): Promise<{ rows: number; columns: string[] }> {
  const { limits } = options;
  const rowsPerChunk = options.rowsPerChunk ?? ROWS_PER_CHUNK;
  const { left, right } = inputs;
  if (op.op === 'join' && !right)
    throw new TransformError(
      TransformErrorCode.badInput,
      'a join needs two inputs: connect a dataset to its right port',
    );
  let spill: SpillArea | undefined;
  try {
    let rowsIn = 0;
    const read = async function* (opened: ObjectReader): Batches {
      const names = opened.schema.columns.map((c) => c.name);
      for (let i = 0; i < opened.chunkCount; i++) {
        const rows = await decodeChunk(await opened.chunk(i));
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

    const transformed = runTransform(
      op,
      { left: read(left), right: right && read(right) },
      { limits, numericFields, buildSide: right && right.rowCount > left.rowCount ? 'left' : 'right' },
    );

    // A script's fields are known only from its records: they go to a spill file first.
    let fields = outputFields(
      op,
      left.schema.columns.map((c) => c.name),
      right?.schema.columns.map((c) => c.name),
    );
    let records: Batches = transformed;
    if (!fields) {
      spill = await SpillArea.open(limits.spillDir);
      const file = spill.file();
      const seen = new Set<string>();
      for await (const batch of transformed)
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
      throw new TransformError(TransformErrorCode.badInput, 'the transform gives records without any field');

    await output.open?.();
    const seen = new SeenKinds();
    let pending: unknown[][] = [];
    let chunks = 0;
    let rowsOut = 0;
    const report = () => options.progress?.({ rowsIn, rowsOut, chunks });
    const flush = async () => {
      if (pending.length === 0) return;
      const rows = pending;
      pending = [];
      await output.chunk(chunks++, await encodeChunk(rows), rows.length);
      rowsOut += rows.length;
      report();
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
      if (pending.length >= rowsPerChunk) await flush();
      report();
    }
    await flush();

    const schema = outputSchema(op, fields, inputColumns, left.schema, seen);
    await output.commit({ schema, chunkCount: chunks, rowCount: rowsOut });
    return { rows: rowsOut, columns: fields };
  } finally {
    await spill?.close();
  }
}

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
