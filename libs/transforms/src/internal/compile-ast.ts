/**
 * A small compiler from JSONata's AST (`jsonata(expr).ast()`) to JavaScript closures, for the subset
 * that covers most mappings and filters: field paths, literals, comparisons, and/or, arithmetic,
 * string concatenation (`&`), unary minus, conditionals, parentheses, and calls of the simple
 * built-in functions in FUNCTIONS below. No code is generated as text (no eval): each node becomes
 * a closure over its children.
 *
 * A compiled function returns FALLBACK whenever a record takes it outside the subset's exact
 * semantics (an array on a path, an object in a comparison, a value JSONata would reject with an
 * error, a result JSONata would refuse): the engine then evaluates that record with JSONata, so
 * the two paths always give the same answer (the differential test checks it).
 */
export const FALLBACK: unique symbol = Symbol('fallback to JSONata');
export type Compiled = (record: unknown) => unknown;

interface Node {
  type: string;
  value?: unknown;
  [key: string]: unknown;
}

const has = Object.prototype.hasOwnProperty;
/** AST keys that carry meaning the compiler does not model (predicates, grouping, focus, ...). */
const onlyKeys = (node: Node, allowed: string[]) => Object.keys(node).every((k) => allowed.includes(k));

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}

/** JSONata's $boolean for the values the subset handles; FALLBACK for arrays and objects. */
function boolize(v: unknown): boolean | typeof FALLBACK {
  switch (typeof v) {
    case 'undefined':
      return false;
    case 'boolean':
      return v;
    case 'string':
      return v.length > 0;
    case 'number':
      return v !== 0;
    default:
      return v === null ? false : FALLBACK;
  }
}

/** JSONata's $string for primitives (numbers at 15 significant digits, as JSONata prints them). */
function stringify(v: unknown): string | typeof FALLBACK {
  switch (typeof v) {
    case 'undefined':
      return '';
    case 'string':
      return v;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) return FALLBACK;
      return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(15)));
    default:
      return v === null ? 'null' : FALLBACK;
  }
}

/**
 * The names of a path made of plain names only (`a.b.c`), or undefined for any other path (a
 * predicate, a wildcard, a function step, grouping or focus): the only paths the compiler models.
 */
function plainPathNames(node: Node): string[] | undefined {
  if (!onlyKeys(node, ['type', 'steps', 'position'])) return undefined;
  const steps = node.steps as Node[];
  if (!Array.isArray(steps) || steps.length === 0) return undefined;
  const names: string[] = [];
  for (const step of steps) {
    if (step.type !== 'name' || typeof step.value !== 'string' || !onlyKeys(step, ['type', 'value', 'position']))
      return undefined;
    names.push(step.value);
  }
  return names;
}

function compilePath(node: Node): Compiled | undefined {
  const names = plainPathNames(node);
  if (!names) return undefined;
  const last = names.length - 1;
  return (record) => {
    let v: unknown = record;
    for (let i = 0; i <= last; i++) {
      if (!isObject(v) || Array.isArray(v)) return Array.isArray(v) ? FALLBACK : undefined;
      // Inherited names (constructor, __proto__) are JSONata's business, not a record's field.
      if (!has.call(v, names[i]!))
        return (v as Record<string, unknown>)[names[i]!] === undefined ? undefined : FALLBACK;
      v = (v as Record<string, unknown>)[names[i]!];
      if (v === undefined) return undefined;
    }
    // JSONata flattens arrays and unwraps singletons: not the subset.
    return Array.isArray(v) ? FALLBACK : v;
  };
}

/**
 * A path as JSONata reads it when arrays are on the way (`lines.amount`): the flat sequence of the
 * values it selects, or undefined when it selects none ([] for a field that is an empty array). Only the plain case is modelled: arrays of
 * values or objects one level deep at any step; an array inside an array (JSONata's flattening
 * rules differ by position) and inherited names are FALLBACK.
 */
function compileSequencePath(node: Node): ((record: unknown) => unknown[] | undefined | typeof FALLBACK) | undefined {
  const names = node.type === 'path' ? plainPathNames(node) : undefined;
  if (!names) return undefined;
  return (record) => {
    let items: unknown[] = [record];
    // JSONata keeps a step's result as is when one item gave it and it is an array: an empty array
    // at the end of the path is then [] (`$join(tags)` of `tags: []` is ""), not "nothing".
    let whole = false;
    for (const name of names) {
      const next: unknown[] = [];
      let defined = 0;
      let array = false;
      for (const item of items) {
        if (!isObject(item)) continue; // a value has no fields: nothing selected
        if (Array.isArray(item)) return FALLBACK;
        if (!has.call(item, name)) {
          if ((item as Record<string, unknown>)[name] !== undefined) return FALLBACK;
          continue;
        }
        const v = (item as Record<string, unknown>)[name];
        if (v === undefined) continue;
        defined++;
        if (Array.isArray(v)) {
          array = true;
          for (const e of v) {
            if (Array.isArray(e)) return FALLBACK;
            next.push(e);
          }
        } else {
          array = false;
          next.push(v);
        }
      }
      whole = defined === 1 && array;
      items = next;
    }
    return items.length === 0 ? (whole ? [] : undefined) : items;
  };
}

/** An argument a function reads as an array (`<a...>`): a path's sequence, or any compiled value as one. */
function compileSequenceArg(node: Node): ((record: unknown) => unknown[] | undefined | typeof FALLBACK) | undefined {
  const path = compileSequencePath(node);
  if (path) return path;
  const value = compileNode(node);
  if (!value) return undefined;
  return (record) => {
    const v = value(record);
    if (v === FALLBACK || v === undefined) return v;
    if (!Array.isArray(v)) return [v];
    return v.some((e) => Array.isArray(e)) ? FALLBACK : v;
  };
}

/** `$sum`, `$count`, `$join` over a sequence argument, as JSONata 2.2 defines them for the types taken here. */
function compileSequenceCall(name: string, args: Node[]): Compiled | undefined {
  if ((name === 'sum' || name === 'count') && args.length === 1) {
    const seq = compileSequenceArg(args[0]!);
    if (!seq) return undefined;
    if (name === 'count')
      return (record) => {
        const items = seq(record);
        return items === FALLBACK ? FALLBACK : items === undefined ? 0 : items.length;
      };
    return (record) => {
      const items = seq(record);
      if (items === FALLBACK || items === undefined) return items;
      let total = 0;
      for (const n of items) {
        if (typeof n !== 'number') return FALLBACK; // JSONata's type error
        total += n;
      }
      return Number.isFinite(total) ? total : FALLBACK;
    };
  }
  if (name === 'join' && (args.length === 1 || args.length === 2)) {
    const seq = compileSequenceArg(args[0]!);
    const separator = args.length === 2 ? compileNode(args[1]!) : () => '';
    if (!seq || !separator) return undefined;
    return (record) => {
      const items = seq(record);
      if (items === FALLBACK) return FALLBACK;
      const sep = separator(record);
      if (typeof sep !== 'string') return FALLBACK; // undefined or not text: JSONata's to judge
      if (items === undefined) return undefined;
      for (const s of items) if (typeof s !== 'string') return FALLBACK;
      return items.join(sep);
    };
  }
  return undefined;
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** `$substring(str, start[, length])` on code points, `$contains(str, text)`: JSONata 2.2's, for text and whole numbers. */
function compileStringCall(name: string, args: Node[]): Compiled | undefined {
  if (name === 'substring' && (args.length === 2 || args.length === 3)) {
    const compiled = args.map((a) => compileNode(a));
    if (compiled.some((c) => !c)) return undefined;
    const [str, start, length] = compiled as Compiled[];
    return (record) => {
      const s = str!(record);
      if (s === FALLBACK) return FALLBACK;
      const from = start!(record);
      const len = length ? length(record) : undefined;
      if (from === FALLBACK || len === FALLBACK) return FALLBACK;
      if (!Number.isInteger(from) || (length && !Number.isInteger(len))) return FALLBACK;
      if (s === undefined) return undefined;
      if (typeof s !== 'string') return FALLBACK;
      // Without surrogates a UTF-16 unit is a code point: no array of characters needed.
      const chars: string | string[] = SURROGATE.test(s) ? [...s] : s;
      let b = from as number;
      if (chars.length + b < 0) b = 0;
      const slice = (x: number, y?: number) =>
        typeof chars === 'string' ? chars.slice(x, y) : chars.slice(x, y).join('');
      if (length) {
        const n = len as number;
        if (n <= 0) return '';
        return slice(b, b >= 0 ? b + n : chars.length + b + n);
      }
      return slice(b);
    };
  }
  if (name === 'contains' && args.length === 2) {
    const str = compileNode(args[0]!);
    const token = compileNode(args[1]!);
    if (!str || !token) return undefined;
    return (record) => {
      const s = str(record);
      if (s === FALLBACK) return FALLBACK;
      const t = token(record);
      if (t === FALLBACK) return FALLBACK;
      if (s === undefined || t === undefined) return s === undefined && typeof t !== 'string' ? FALLBACK : undefined;
      return typeof s === 'string' && typeof t === 'string' ? s.includes(t) : FALLBACK;
    };
  }
  return undefined;
}

function arithmetic(op: string, l: Compiled, r: Compiled): Compiled | undefined {
  const apply =
    op === '+'
      ? (a: number, b: number) => a + b
      : op === '-'
        ? (a: number, b: number) => a - b
        : op === '*'
          ? (a: number, b: number) => a * b
          : op === '/'
            ? (a: number, b: number) => a / b
            : op === '%'
              ? (a: number, b: number) => a % b
              : undefined;
  if (!apply) return undefined;
  return (record) => {
    const a = l(record);
    if (a === FALLBACK) return FALLBACK;
    const b = r(record);
    if (b === FALLBACK) return FALLBACK;
    if ((a !== undefined && typeof a !== 'number') || (b !== undefined && typeof b !== 'number')) return FALLBACK;
    if (a === undefined || b === undefined) return undefined;
    const out = apply(a, b);
    return Number.isFinite(out) ? out : FALLBACK;
  };
}

function comparison(op: string, l: Compiled, r: Compiled): Compiled {
  return (record) => {
    const a = l(record);
    if (a === FALLBACK) return FALLBACK;
    const b = r(record);
    if (b === FALLBACK) return FALLBACK;
    const ta = typeof a;
    const tb = typeof b;
    if (
      (ta !== 'undefined' && ta !== 'string' && ta !== 'number') ||
      (tb !== 'undefined' && tb !== 'string' && tb !== 'number')
    )
      return FALLBACK;
    if (a === undefined || b === undefined) return undefined;
    if (ta !== tb) return FALLBACK;
    const x = a as number;
    const y = b as number;
    return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
  };
}

function equality(negate: boolean, l: Compiled, r: Compiled): Compiled {
  return (record) => {
    const a = l(record);
    if (a === FALLBACK) return FALLBACK;
    const b = r(record);
    if (b === FALLBACK) return FALLBACK;
    if (a === undefined || b === undefined) return false;
    if (isObject(a) || isObject(b)) return FALLBACK; // deep equality: JSONata's
    return negate ? a !== b : a === b;
  };
}

/** JSONata 2.2's $round: half to even, the decimal shift done on the number's text (copied, so results agree). */
function roundHalfEven(arg: number, precision: number): number {
  let x = arg;
  if (precision) {
    const value = x.toString().split('e');
    x = +(value[0] + 'e' + (value[1] ? +value[1] + precision : precision));
  }
  let result = Math.round(x);
  if (Math.abs(result - x) === 0.5 && Math.abs(result % 2) === 1) result = result - 1;
  if (precision) {
    const value = result.toString().split('e');
    result = +(value[0] + 'e' + (value[1] ? +value[1] - precision : -precision));
  }
  return Object.is(result, -0) ? 0 : result;
}

/** JSONata's $number on a string: decimal notation only (hex, octal and binary texts go to JSONata). */
const DECIMAL_TEXT = /^-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?$/;

/**
 * The built-in functions the subset calls, each as JSONata 2.2 defines it for the argument types
 * it takes here (every other type returns FALLBACK: JSONata then gives its answer or its error).
 * Every function gives undefined for an undefined argument, as JSONata's do.
 */
const FUNCTIONS: Record<string, (v: unknown) => unknown> = {
  uppercase: (v) => (typeof v === 'string' ? v.toUpperCase() : FALLBACK),
  lowercase: (v) => (typeof v === 'string' ? v.toLowerCase() : FALLBACK),
  // Code points, not UTF-16 units.
  length: (v) => (typeof v === 'string' ? [...v].length : FALLBACK),
  trim: (v) => {
    if (typeof v !== 'string') return FALLBACK;
    let out = v.replace(/[ \t\n\r]+/gm, ' ');
    if (out.charAt(0) === ' ') out = out.substring(1);
    if (out.charAt(out.length - 1) === ' ') out = out.substring(0, out.length - 1);
    return out;
  },
  string: (v) => stringify(v),
  number: (v) => {
    if (typeof v === 'number') return v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'string' && DECIMAL_TEXT.test(v)) {
      const n = parseFloat(v);
      return Number.isFinite(n) ? n : FALLBACK;
    }
    return FALLBACK;
  },
  abs: (v) => (typeof v === 'number' ? Math.abs(v) : FALLBACK),
  floor: (v) => (typeof v === 'number' ? Math.floor(v) : FALLBACK),
  ceil: (v) => (typeof v === 'number' ? Math.ceil(v) : FALLBACK),
  round: (v) => (typeof v === 'number' ? roundHalfEven(v, 0) : FALLBACK),
  boolean: (v) => boolize(v),
  not: (v) => {
    const b = boolize(v);
    return b === FALLBACK ? FALLBACK : !b;
  },
};

/** `$name(arg)` (and `$round(arg, <integer literal>)`, `$exists(arg)`) over a compiled argument. */
function compileCall(node: Node): Compiled | undefined {
  // `name` is set (to the function's name) only on a partial application's placeholder calls.
  if (
    node.value !== '(' ||
    node.name !== undefined ||
    !onlyKeys(node, ['type', 'name', 'value', 'position', 'arguments', 'procedure'])
  )
    return undefined;
  const procedure = node.procedure as Node | undefined;
  const args = node.arguments as Node[] | undefined;
  if (
    !procedure ||
    procedure.type !== 'variable' ||
    typeof procedure.value !== 'string' ||
    !onlyKeys(procedure, ['type', 'value', 'position']) ||
    !Array.isArray(args)
  )
    return undefined;
  const name = procedure.value;
  const sequenceCall = compileSequenceCall(name, args);
  if (sequenceCall) return sequenceCall;
  const stringCall = compileStringCall(name, args);
  if (stringCall) return stringCall;
  if (name === 'round' && args.length === 2) {
    const p = args[1]!;
    // Only a literal whole precision: anything else is JSONata's to check.
    if (p.type !== 'number' || !onlyKeys(p, ['type', 'value', 'position'])) return undefined;
    const precision = p.value as number;
    if (!Number.isInteger(precision) || Math.abs(precision) > 20) return undefined;
    const arg = compileNode(args[0]!);
    if (!arg) return undefined;
    return (record) => {
      const v = arg(record);
      if (v === undefined || v === FALLBACK) return v;
      if (typeof v !== 'number') return FALLBACK;
      const out = roundHalfEven(v, precision);
      return Number.isFinite(out) ? out : FALLBACK;
    };
  }
  if (args.length !== 1) return undefined;
  const arg = compileNode(args[0]!);
  if (!arg) return undefined;
  if (name === 'exists')
    return (record) => {
      const v = arg(record);
      return v === FALLBACK ? FALLBACK : v !== undefined;
    };
  if (!has.call(FUNCTIONS, name)) return undefined;
  const fn = FUNCTIONS[name]!;
  return (record) => {
    const v = arg(record);
    if (v === undefined || v === FALLBACK) return v;
    const out = fn(v);
    return typeof out === 'number' && !Number.isFinite(out) ? FALLBACK : out;
  };
}

/** `[a, b, ...]` of values that are not arrays (an undefined item is left out, as JSONata does). */
function compileArray(node: Node): Compiled | undefined {
  const exprs = node.expressions as Node[];
  if (!onlyKeys(node, ['type', 'value', 'expressions', 'position', 'consarray']) || !Array.isArray(exprs))
    return undefined;
  const items = exprs.map((e) => compileNode(e));
  if (items.some((i) => !i)) return undefined;
  const fns = items as Compiled[];
  return (record) => {
    const out: unknown[] = [];
    for (const fn of fns) {
      const v = fn(record);
      if (v === FALLBACK || Array.isArray(v)) return FALLBACK; // JSONata's flattening rules
      if (v !== undefined) out.push(v);
    }
    return out;
  };
}

/**
 * `{ "key": value, ... }` with literal keys (an undefined value leaves its key out). No prototype,
 * as JSONata makes them: `__proto__` is a plain key.
 */
function compileObject(node: Node): Compiled | undefined {
  const pairs = node.lhs as Node[][];
  if (!onlyKeys(node, ['type', 'value', 'lhs', 'position']) || !Array.isArray(pairs)) return undefined;
  const keys: string[] = [];
  const values: Compiled[] = [];
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) return undefined;
    const [k, v] = pair as [Node, Node];
    if (k.type !== 'string' || typeof k.value !== 'string' || !onlyKeys(k, ['type', 'value', 'position']))
      return undefined;
    // A repeated key is JSONata's error (D1009); its own flags are refused (D1013).
    if (keys.includes(k.value) || k.value === '_jsonata_lambda' || k.value === '_jsonata_function') return undefined;
    const value = compileNode(v);
    if (!value) return undefined;
    keys.push(k.value);
    values.push(value);
  }
  return (record) => {
    const out = Object.create(null) as Record<string, unknown>;
    for (let i = 0; i < keys.length; i++) {
      const v = values[i]!(record);
      if (v === FALLBACK) return FALLBACK;
      if (v !== undefined) out[keys[i]!] = v;
    }
    return out;
  };
}

function compileNode(node: Node): Compiled | undefined {
  switch (node.type) {
    case 'function':
      return compileCall(node);
    case 'string':
    case 'number':
    case 'value': {
      if (!onlyKeys(node, ['type', 'value', 'position'])) return undefined;
      const value = node.value;
      if (typeof value === 'number' && !Number.isFinite(value)) return undefined;
      return () => value;
    }
    case 'path':
      return compilePath(node);
    case 'block': {
      const exprs = node.expressions as Node[];
      if (!onlyKeys(node, ['type', 'expressions', 'position']) || !Array.isArray(exprs) || exprs.length !== 1)
        return undefined;
      return compileNode(exprs[0]!);
    }
    case 'unary': {
      if (node.value === '[') return compileArray(node);
      if (node.value === '{') return compileObject(node);
      if (node.value !== '-' || !onlyKeys(node, ['type', 'value', 'expression', 'position'])) return undefined;
      const inner = compileNode(node.expression as Node);
      if (!inner) return undefined;
      return (record) => {
        const v = inner(record);
        if (v === undefined || v === FALLBACK) return v;
        return typeof v === 'number' ? -v : FALLBACK;
      };
    }
    case 'condition': {
      if (!onlyKeys(node, ['type', 'condition', 'then', 'else', 'position'])) return undefined;
      const cond = compileNode(node.condition as Node);
      const then = compileNode(node.then as Node);
      const otherwise = node.else === undefined ? () => undefined : compileNode(node.else as Node);
      if (!cond || !then || !otherwise) return undefined;
      return (record) => {
        const c = cond(record);
        if (c === FALLBACK) return FALLBACK;
        const b = boolize(c);
        if (b === FALLBACK) return FALLBACK;
        return b ? then(record) : otherwise(record);
      };
    }
    case 'binary': {
      if (!onlyKeys(node, ['type', 'value', 'lhs', 'rhs', 'position'])) return undefined;
      const op = node.value as string;
      const l = compileNode(node.lhs as Node);
      const r = compileNode(node.rhs as Node);
      if (!l || !r) return undefined;
      switch (op) {
        case '+':
        case '-':
        case '*':
        case '/':
        case '%':
          return arithmetic(op, l, r);
        case '=':
        case '!=':
          return equality(op === '!=', l, r);
        case '<':
        case '<=':
        case '>':
        case '>=':
          return comparison(op, l, r);
        case '&':
          return (record) => {
            const a = l(record);
            if (a === FALLBACK) return FALLBACK;
            const b = r(record);
            if (b === FALLBACK) return FALLBACK;
            const sa = stringify(a);
            const sb = stringify(b);
            return sa === FALLBACK || sb === FALLBACK ? FALLBACK : sa + sb;
          };
        case 'in':
          return (record) => {
            const a = l(record);
            if (a === FALLBACK) return FALLBACK;
            const b = r(record);
            if (b === FALLBACK) return FALLBACK;
            if (a === undefined || b === undefined) return false;
            if (isObject(a)) return FALLBACK; // a sequence on the left: JSONata's
            return Array.isArray(b) ? b.some((e) => e === a) : b === a;
          };
        case 'and':
        case 'or': {
          const isAnd = op === 'and';
          return (record) => {
            const a = l(record);
            if (a === FALLBACK) return FALLBACK;
            const ba = boolize(a);
            if (ba === FALLBACK) return FALLBACK;
            if (isAnd ? !ba : ba) return ba;
            const b = r(record);
            if (b === FALLBACK) return FALLBACK;
            return boolize(b);
          };
        }
        default:
          return undefined;
      }
    }
    default:
      return undefined;
  }
}

/** The compiled form of a JSONata AST, or undefined when the expression is outside the subset. */
export function compileAst(ast: unknown): Compiled | undefined {
  if (!isObject(ast)) return undefined;
  return compileNode(ast as Node);
}
