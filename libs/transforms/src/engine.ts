import type { TransformOp } from '@vansales/definitions';
import { TransformError, TransformErrorCode } from './errors';
import { createMapper, createPredicate, type TransformRecord } from './expression';
import { parseTransformLimits, type TransformLimits, type TransformLimitsInput } from './limits';
import { LazySpill } from './internal/spill';
import type { Batches } from './internal/values';
import { aggregate } from './ops/aggregate';
import { createCoercer } from './ops/coerce';
import { dedupe } from './ops/dedupe';
import { joinRecords, type JoinSide } from './ops/join';
import { ScriptSandbox } from './ops/script';
import { sortRecords } from './ops/sort';

export type { Batches };

export interface TransformInputs {
  left: Batches;
  /** The join's right side. */
  right?: Batches;
}

export interface RunTransformOptions {
  limits?: TransformLimitsInput | TransformLimits;
  /** false: evaluate every expression with JSONata (no compiled closures). Default true. */
  compile?: boolean;
  /** Fields that hold numbers possibly as strings (canonical decimals, big integers): sorted and compared by value. */
  numericFields?: Iterable<string>;
  /** The join side held in memory: the smaller one when the caller knows (default right). */
  buildSide?: JoinSide;
}

/** Records numbered from 1 across batches, for messages that name the record at fault. */
async function* numbered(
  input: Batches,
  fn: (batch: TransformRecord[], first: number) => Promise<TransformRecord[]> | TransformRecord[],
): AsyncGenerator<TransformRecord[]> {
  let next = 1;
  for await (const batch of input) {
    const out = await fn(batch, next);
    next += batch.length;
    if (out.length > 0) yield out;
  }
}

/**
 * Runs one transform over record batches, with bounded memory (ops that must see every record spill
 * to a private temp folder, removed when the iteration ends, normally or not). Expressions and
 * scripts are compiled once, before the first record.
 */
export async function* runTransform(
  op: TransformOp,
  inputs: TransformInputs,
  options: RunTransformOptions = {},
): AsyncGenerator<TransformRecord[]> {
  const limits = parseTransformLimits(options.limits ?? {});
  const numeric = new Set(options.numericFields ?? []);
  const spill = new LazySpill(limits.spillDir);
  let sandbox: ScriptSandbox | undefined;
  try {
    switch (op.op) {
      case 'map': {
        const mapper = createMapper(op.fields, { compile: options.compile });
        yield* numbered(inputs.left, (b, first) => mapper.mapBatch(b, first));
        return;
      }
      case 'filter': {
        const predicate = createPredicate(op.where, { compile: options.compile });
        yield* numbered(inputs.left, (b, first) => predicate.filterBatch(b, first));
        return;
      }
      case 'coerce': {
        const coerce = createCoercer(op);
        yield* numbered(inputs.left, coerce);
        return;
      }
      case 'script': {
        sandbox = await ScriptSandbox.create(op.source, limits);
        const box = sandbox;
        yield* numbered(inputs.left, (b, first) => {
          const out: TransformRecord[] = [];
          for (let i = 0; i < b.length; i += limits.scriptBatchRecords)
            for (const r of box.transformBatch(b.slice(i, i + limits.scriptBatchRecords), first + i)) out.push(r);
          return out;
        });
        return;
      }
      case 'dedupe':
        yield* dedupe(inputs.left, op, limits, spill, numeric);
        return;
      case 'aggregate':
        yield* aggregate(inputs.left, op, limits, spill, numeric);
        return;
      case 'sort':
        yield* sortRecords(inputs.left, op, limits, spill, numeric);
        return;
      case 'join':
        if (!inputs.right)
          throw new TransformError(TransformErrorCode.badInput, 'join needs two inputs: left and right');
        yield* joinRecords(inputs.left, inputs.right, op, limits, spill, options.buildSide);
        return;
      default:
        throw new TransformError(
          TransformErrorCode.badInput,
          `unknown transform op ${JSON.stringify((op as { op?: unknown }).op)}`,
        );
    }
  } finally {
    sandbox?.dispose();
    await spill.close();
  }
}

/**
 * The output's field names when they follow from the op and its inputs' fields; undefined for a
 * script (its records say). A join has the left's fields, then the right's that the left lacks.
 */
export function outputFields(
  op: TransformOp,
  left: readonly string[],
  right: readonly string[] = [],
): string[] | undefined {
  switch (op.op) {
    case 'map':
      return Object.keys(op.fields);
    case 'aggregate':
      return [...op.groupBy, ...Object.keys(op.measures).filter((m) => !op.groupBy.includes(m))];
    case 'join':
      return [...left, ...right.filter((c) => !left.includes(c))];
    case 'coerce':
      return [...left, ...Object.keys(op.types).filter((c) => !left.includes(c))];
    case 'script':
      return undefined;
    default:
      return [...left];
  }
}
