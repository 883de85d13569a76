import jsonata from 'jsonata';
import { TransformError, TransformErrorCode, jsonataMessage } from './errors';
import { compileAst, FALLBACK, type Compiled } from './internal/compile-ast';

export type TransformRecord = Record<string, unknown>;

export interface ExpressionOptions {
  /** false: always evaluate with JSONata (the benchmark's JSONata path, the differential test's reference). */
  compile?: boolean;
}

/** An expression compiled once per transform: a JavaScript closure where the subset allows, JSONata otherwise. */
export interface TransformExpression {
  readonly source: string;
  /** true when records are evaluated by the compiled closure (JSONata only for records outside the subset). */
  readonly compiled: boolean;
  readonly jsonata: jsonata.Expression;
  /** The compiled closure (FALLBACK for a record it does not take), or undefined. */
  readonly fast?: Compiled;
  evaluate(record: TransformRecord): Promise<unknown>;
}

/** A variable name no user expression is expected to bind (the batch wrapper's record). */
const RECORD_VAR = '$__vscRecord';

function parse(source: string, what: string): jsonata.Expression {
  try {
    return jsonata(source);
  } catch (err) {
    throw new TransformError(TransformErrorCode.badExpression, `${what}: ${jsonataMessage(err)}`, { cause: err });
  }
}

export function compileExpression(
  source: string,
  options: ExpressionOptions = {},
  what = 'expression',
): TransformExpression {
  const expr = parse(source, what);
  const fast = options.compile === false ? undefined : compileAst(expr.ast());
  return {
    source,
    compiled: fast !== undefined,
    jsonata: expr,
    fast,
    async evaluate(record) {
      if (fast) {
        const v = fast(record);
        if (v !== FALLBACK) return v;
      }
      try {
        return await expr.evaluate(record);
      } catch (err) {
        throw new TransformError(TransformErrorCode.badRecord, `${what}: ${jsonataMessage(err)}`, { cause: err });
      }
    },
  };
}

/** `$$` is the record when evaluated alone but the batch inside the batch wrapper: such expressions go one by one. */
const usesRoot = (source: string) => source.includes('$$');

/** JSONata's $boolean, as filters read a condition's result. */
function truthy(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (Array.isArray(v)) return v.length === 1 ? truthy(v[0]) : v.some(truthy);
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return false;
}

/** JSONata wraps one-item results; a batch of one record comes back as the item itself. */
const asArray = (v: unknown, n: number): unknown[] => (n === 1 && !Array.isArray(v) ? [v] : ((v as unknown[]) ?? []));

/**
 * A mapping (`map` op): each output record has the mapped fields (a field whose value is undefined
 * is left out). Compiled fields run as closures; the others run as ONE JSONata evaluation per batch
 * (`$map` over the batch), which costs a fraction of one evaluation per record per field.
 */
export function createMapper(fields: Record<string, string>, options: ExpressionOptions = {}) {
  const entries = Object.entries(fields).map(([name, source]) => ({
    name,
    expr: compileExpression(source, options, `field ${name}`),
  }));
  const slow = entries.filter((e) => !e.expr.fast && !usesRoot(e.expr.source));
  const batch =
    slow.length > 0
      ? parse(
          `$map($, function(${RECORD_VAR}){ ${RECORD_VAR}.{ ${slow
            .map((e, i) => `"f${i}": (${e.expr.source})`)
            .join(', ')} } })`,
          'mapping',
        )
      : undefined;

  const one = async (e: (typeof entries)[number], record: TransformRecord, n: number) => {
    try {
      return await e.expr.jsonata.evaluate(record);
    } catch (err) {
      throw new TransformError(TransformErrorCode.badRecord, `record ${n}, field ${e.name}: ${jsonataMessage(err)}`, {
        record: n,
        field: e.name,
        cause: err,
      });
    }
  };

  return {
    fields: entries.map((e) => ({ name: e.name, compiled: e.expr.compiled })),
    /** `first`: the 1-based number of the batch's first record, for messages. */
    async mapBatch(records: TransformRecord[], first = 1): Promise<TransformRecord[]> {
      const out: TransformRecord[] = new Array(records.length);
      let slowValues: unknown[] | undefined;
      if (batch && records.length > 0) {
        try {
          slowValues = asArray(await batch.evaluate(records), records.length);
        } catch {
          slowValues = undefined; // one record is at fault: the per-record pass below names it
        }
      }
      for (let i = 0; i < records.length; i++) {
        const record = records[i]!;
        const o: TransformRecord = {};
        for (const e of entries) {
          let v: unknown;
          if (e.expr.fast) {
            v = e.expr.fast(record);
            if (v === FALLBACK) v = await one(e, record, first + i);
          } else if (slowValues && !usesRoot(e.expr.source)) {
            v = (slowValues[i] as TransformRecord | undefined)?.[`f${slow.indexOf(e)}`];
          } else {
            v = await one(e, record, first + i);
          }
          if (v !== undefined) o[e.name] = v;
        }
        out[i] = o;
      }
      return out;
    },
  };
}

/** A filter (`filter` op): keeps the records whose condition is true (JSONata's boolean of the result). */
export function createPredicate(where: string, options: ExpressionOptions = {}) {
  const expr = compileExpression(where, options, 'filter');
  const batch =
    !expr.fast && !usesRoot(where)
      ? parse(`$map($, function(${RECORD_VAR}){ ${RECORD_VAR}.(${where}) ? true : false })`, 'filter')
      : undefined;
  const one = async (record: TransformRecord, n: number) => {
    try {
      return truthy(await expr.jsonata.evaluate(record));
    } catch (err) {
      throw new TransformError(TransformErrorCode.badRecord, `record ${n}, filter: ${jsonataMessage(err)}`, {
        record: n,
        cause: err,
      });
    }
  };
  return {
    compiled: expr.compiled,
    async filterBatch(records: TransformRecord[], first = 1): Promise<TransformRecord[]> {
      const out: TransformRecord[] = [];
      if (expr.fast) {
        for (let i = 0; i < records.length; i++) {
          const v = expr.fast(records[i]!);
          if (v === FALLBACK ? await one(records[i]!, first + i) : truthy(v)) out.push(records[i]!);
        }
        return out;
      }
      let keep: unknown[] | undefined;
      if (batch && records.length > 0) {
        try {
          keep = asArray(await batch.evaluate(records), records.length);
        } catch {
          keep = undefined;
        }
      }
      for (let i = 0; i < records.length; i++)
        if (keep ? keep[i] === true : await one(records[i]!, first + i)) out.push(records[i]!);
      return out;
    },
  };
}
