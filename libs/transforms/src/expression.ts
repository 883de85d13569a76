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

/** An AST as JSON without source positions (the same expression at another offset compares equal). */
const shape = (ast: unknown) => JSON.stringify(ast, (k, v: unknown) => (k === 'position' ? undefined : v));

/**
 * `{ "f0": <field 0>, "f1": <field 1>, ... }` for JSONata to evaluate once per record. Each field
 * goes in as written when the object's AST then holds exactly each field's own AST; otherwise (an
 * expression that would read differently there) in parentheses, which JSONata evaluates as a block
 * with a frame of its own per field and record, 10-20 % slower, so only when needed.
 */
function combinedObject(exprs: TransformExpression[]): jsonata.Expression {
  const wrapped = () => parse(`{ ${exprs.map((e, i) => `"f${i}": (${e.source})`).join(', ')} }`, 'mapping');
  let bare: jsonata.Expression;
  try {
    bare = jsonata(`{ ${exprs.map((e, i) => `"f${i}": ${e.source}`).join(', ')} }`);
  } catch {
    return wrapped();
  }
  const ast = bare.ast() as { type?: string; value?: unknown; lhs?: unknown[][] };
  const same =
    ast.type === 'unary' &&
    ast.value === '{' &&
    Array.isArray(ast.lhs) &&
    ast.lhs.length === exprs.length &&
    exprs.every((e, i) => {
      const pair = ast.lhs![i];
      return (
        Array.isArray(pair) &&
        pair.length === 2 &&
        (pair[0] as { type?: unknown }).type === 'string' &&
        (pair[0] as { value?: unknown }).value === `f${i}` &&
        shape(pair[1]) === shape(e.jsonata.ast())
      );
    });
  return same ? bare : wrapped();
}

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

/**
 * A mapping (`map` op): each output record has the mapped fields (a field whose value is undefined
 * is left out). Compiled fields run as closures; the others run as ONE JSONata object expression
 * per record, not one evaluation per field. (Evaluating `$map` over a whole batch measured slower
 * than this: JSONata's cost is in evaluating, not in the call.)
 */
export function createMapper(fields: Record<string, string>, options: ExpressionOptions = {}) {
  const entries = Object.entries(fields).map(([name, source]) => ({
    name,
    expr: compileExpression(source, options, `field ${name}`),
  }));
  const slow = entries.filter((e) => !e.expr.fast);
  // The fields JSONata evaluates, as one object expression: one evaluation per record, not one per field.
  const combined = slow.length > 0 ? combinedObject(slow.map((e) => e.expr)) : undefined;

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
      const names = entries.map((e) => e.name);
      const fns = entries.map((e) => e.expr.fast);
      const slowKeys = entries.map((e) => (e.expr.fast ? undefined : `f${slow.indexOf(e)}`));
      for (let i = 0; i < records.length; i++) {
        const record = records[i]!;
        const o: TransformRecord = {};
        let slowValues: TransformRecord | undefined;
        if (combined) {
          try {
            slowValues = (await combined.evaluate(record)) as TransformRecord;
          } catch {
            slowValues = undefined; // the field at fault is found and named field by field below
          }
        }
        for (let k = 0; k < names.length; k++) {
          const fast = fns[k];
          const slowKey = slowKeys[k];
          let v: unknown;
          if (fast) {
            v = fast(record);
            if (v === FALLBACK) v = await one(entries[k]!, record, first + i);
          } else if (slowValues && slowKey !== undefined) {
            v = slowValues[slowKey];
          } else {
            v = await one(entries[k]!, record, first + i);
          }
          if (v !== undefined) o[names[k]!] = v;
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
      for (let i = 0; i < records.length; i++) if (await one(records[i]!, first + i)) out.push(records[i]!);
      return out;
    },
  };
}
