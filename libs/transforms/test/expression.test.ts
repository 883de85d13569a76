import jsonata from 'jsonata';
import { compileExpression, createMapper, createPredicate, type TransformError } from '@vansales/transforms';
import { sampleRecords } from './support';

/** Expressions the compiler takes (paths, literals, comparisons, and/or, arithmetic, &, unary minus, conditions). */
const COMPILABLE = [
  'id',
  'nested.a',
  'nested.b',
  'missing.field',
  '42',
  '"text"',
  'true',
  'null',
  'qty * price',
  'qty + 1',
  'qty - price / 2',
  'qty % 3',
  '-qty',
  '(qty + 1) * 2',
  'qty > 2',
  'qty <= 2',
  'name < "b"',
  'name >= "B"',
  'qty = 3',
  'name != "ana"',
  'city = null',
  'nested = null',
  'qty > 2 and active',
  'qty > 2 or name',
  'active and city',
  'name & "-" & city',
  'name & qty',
  'price & ""',
  'qty ? "yes" : "no"',
  'qty > 1 ? qty * 2 : name',
  'active ? id',
  // Simple built-in functions.
  '$uppercase(name)',
  '$lowercase(city)',
  '$length(name)',
  '$trim(name)',
  '$string(qty)',
  '$string(price)',
  '$string(active)',
  '$string(city)',
  '$number(name)',
  '$number(qty)',
  '$number(active)',
  '$abs(qty)',
  '$floor(price)',
  '$ceil(price)',
  '$round(price)',
  '$round(price, 2)',
  '$round(price * 0.9, 2)',
  '$round(qty, -1)',
  '$boolean(city)',
  '$not(active)',
  '$exists(price)',
  '$uppercase(city) & " / " & name',
  '$number(name) * 2',
  '$length($trim(name)) > 2',
  // Sequences over arrays: sums, counts, joins, array constructors, `in`.
  '$sum(qty)',
  '$count(qty)',
  '$sum(nested.a)',
  '$count(nested.a)',
  '$count(lines)',
  '$sum(lines.amount)',
  '$round($sum(lines.amount), 2)',
  '$count(lines.sku)',
  '$join(tags, ",")',
  '$join(lines.sku, "; ")',
  '$join(name, ", ")',
  '$join(nested.b)',
  '$join([name, city], "/")',
  '$join(tags, qty)',
  '$sum([qty, price])',
  '[qty]',
  '[name, city, qty]',
  '[]',
  'name in ["ana", "Bob"]',
  'qty in [1, 2, 3, 10.5]',
  'qty in qty',
  'city in []',
  'name in tags',
  // Substrings (code points) and contains.
  '$substring(name, 1)',
  '$substring(name, 0, 2)',
  '$substring(name, -2)',
  '$substring(name, -3, 2)',
  '$substring(name, 1, 0)',
  '$substring(name, -20, 3)',
  '$substring(name, qty)',
  '$substring(name, 0, qty)',
  '$uppercase($substring(name, 0, 1)) & $substring(name, 1)',
  '$contains(name, "a")',
  '$contains(city, name)',
  '$contains(name, "")',
  // Object constructors (literal keys), nested.
  '{ "a": name, "b": { "c": qty, "d": missing } }',
  '{ "__proto__": name, "n": $count(lines) }',
  '{ "total": $sum(lines.amount), "tags": $join(tags, ","), "first": $substring(name, 0, 1) }',
  'qty > 2 ? { "big": qty } : [name]',
];

/** Expressions outside the subset: evaluated by JSONata. */
const NOT_COMPILABLE = [
  '$substring(name)',
  '$contains(name, /a/)',
  '{ name: qty }',
  '{ "a": 1, "a": 2 }',
  'lines[amount > 1].amount',
  'tags[0]',
  '$uppercase()',
  '$round(price, qty)',
  '$round(price, 1.5)',
  '$string(qty, true)',
  'nested.a[0]',
  '$$.id',
];

/**
 * Values where JSONata's own rules are easy to get wrong: numbers as strings (decimal, exponent,
 * hex, padded, empty), unicode (astral characters, combining marks, ß whose uppercase is longer),
 * whitespace runs, halves for the half-to-even rounding, negative zero, huge and tiny numbers.
 */
function edgeRecords() {
  const names = ['12', '1.5', '-0', '1e3', '1E-2', '0x1F', '0b101', ' 3', '3 ', '', '.5', '5.', '1e400', '007'];
  const text = ['straße', 'ǆ', '😀x', 'e\u0301', '  a \t\n b  ', 'Ωmega', '\u00a0nbsp', 'İ'];
  const numbers = [0.5, 1.5, 2.5, -2.5, 0.125, 1.005, 2.675, -0, 1e21, 1e-7, 123456789.125, Number.MAX_SAFE_INTEGER];
  const out: Record<string, unknown>[] = [];
  let id = 10_000;
  for (const name of [...names, ...text])
    for (const price of numbers)
      out.push({
        id: id++,
        name,
        city: text[id % text.length],
        price,
        qty: numbers[id % numbers.length],
        active: name,
      });
  out.push({ id: id++ }, { id: id++, name: null, city: null, price: null, qty: null, active: null });
  // Arrays where sequences meet: lines of objects (numbers, text, nulls, nested arrays, missing
  // fields), tags of text (mixed, nested, empty, one), singletons.
  const lines = [
    [
      { sku: 'a', amount: 1.5 },
      { sku: 'b', amount: 2 },
    ],
    [{ sku: 'a', amount: 0.1 }, { sku: 'b', amount: 0.2 }, { amount: 0.3 }],
    [{ sku: 'x', amount: '3' }],
    [{ sku: 'y', amount: null }],
    [{ sku: ['p', 'q'], amount: [1, 2] }],
    [{ amount: [[1], 2] }],
    [[{ amount: 1 }]],
    [],
    [{}],
    { sku: 'solo', amount: 7 },
    [5, 'text', null, { amount: 4 }],
    'not lines',
    null,
  ];
  const tags = [['x', 'y'], [], ['solo'], ['a', 1], [['n']], 'one', null, [null], ['ß', '😀']];
  for (let i = 0; i < lines.length * tags.length; i++)
    out.push({
      id: id++,
      name: names[i % names.length],
      city: text[i % text.length],
      qty: i % 4,
      lines: lines[i % lines.length],
      tags: tags[Math.floor(i / lines.length)],
    });
  return out;
}

type Outcome = { value: unknown } | { error: string };

async function reference(expr: jsonata.Expression, record: unknown): Promise<Outcome> {
  try {
    return { value: await expr.evaluate(record) };
  } catch (err) {
    return { error: String((err as { code?: string }).code) };
  }
}

async function ours(source: string, record: Record<string, unknown>): Promise<Outcome> {
  try {
    return { value: await compileExpression(source).evaluate(record) };
  } catch (err) {
    const cause = (err as TransformError).details?.cause as { code?: string } | undefined;
    return { error: String(cause?.code) };
  }
}

/** JSONata marks sequences with extra properties; compare plain JSON. */
const plain = (o: Outcome) => JSON.parse(JSON.stringify(o, (_k, v: unknown) => (v === undefined ? '(undefined)' : v)));

describe('the expression compiler', () => {
  it.each(COMPILABLE)('compiles %s', (source) => {
    expect(compileExpression(source).compiled).toBe(true);
  });

  it.each(NOT_COMPILABLE)('leaves %s to JSONata', (source) => {
    expect(compileExpression(source).compiled).toBe(false);
  });

  it('gives what JSONata gives on every record (differential)', async () => {
    const records = [...sampleRecords(800), ...edgeRecords()];
    const mismatches: string[] = [];
    for (const source of [...COMPILABLE, ...NOT_COMPILABLE]) {
      const expr = jsonata(source);
      const compiled = compileExpression(source);
      for (const record of records) {
        const want = plain(await reference(expr, record));
        const got = plain(await ours(source, record));
        if (JSON.stringify(want) !== JSON.stringify(got))
          mismatches.push(
            `${source} on ${JSON.stringify(record)}: JSONata ${JSON.stringify(want)}, ours ${JSON.stringify(got)}`,
          );
        // The closure itself: when it answers (not a fallback), it answers what JSONata does.
        const fast = compiled.fast?.(record);
        if (
          compiled.fast &&
          typeof fast !== 'symbol' &&
          'value' in want &&
          JSON.stringify(plain({ value: fast })) !== JSON.stringify(want)
        )
          mismatches.push(`${source} closure on ${JSON.stringify(record)}: ${JSON.stringify(fast)}`);
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  it('maps a batch like per-record evaluation of each field, compiled or not', async () => {
    const records = sampleRecords(500, 7).filter((r) => typeof r.name === 'string' && typeof r.qty === 'number');
    const fields = {
      id: 'id',
      label: '$uppercase(name)',
      total: 'qty * 2',
      where: 'city & "!"',
      count: '$count(nested.a)',
      // Fields only JSONata evaluates, inlined into one object expression (no parentheses).
      initial: '$replace(name, "a", "A") & "."',
      piped: 'name ~> $lowercase',
      lambda: 'function($v) { $v * 2 }(qty)',
    };
    const want = [];
    const exprs = Object.entries(fields).map(([k, e]) => [k, jsonata(e)] as const);
    for (const r of records) {
      const o: Record<string, unknown> = {};
      for (const [k, e] of exprs) {
        const v: unknown = await e.evaluate(r);
        if (v !== undefined) o[k] = v;
      }
      want.push(o);
    }
    for (const compile of [true, false]) {
      const mapper = createMapper(fields, { compile });
      expect(JSON.parse(JSON.stringify(await mapper.mapBatch(records)))).toEqual(JSON.parse(JSON.stringify(want)));
    }
  });

  it('filters a batch like per-record evaluation, compiled or not', async () => {
    const records = sampleRecords(500, 9);
    const boolean = jsonata('$boolean($)');
    for (const where of ['qty > 2 and active', '$contains(city, "o")', 'city', 'nested']) {
      const expr = jsonata(where);
      const evaluable = [];
      const want = [];
      for (const r of records) {
        let v: unknown;
        try {
          v = await expr.evaluate(r);
        } catch {
          continue; // a record JSONata refuses: the error test below covers those
        }
        evaluable.push(r);
        if (v !== undefined && (await boolean.evaluate(v))) want.push(r.id);
      }
      for (const compile of [true, false]) {
        const kept = await createPredicate(where, { compile }).filterBatch(evaluable);
        expect(kept.map((r) => r.id)).toEqual(want);
      }
    }
  });

  it('names the record and field a JSONata error comes from', async () => {
    const mapper = createMapper({ total: '$uppercase(qty)' });
    await expect(mapper.mapBatch([{ qty: 'a' }, { qty: 3 }], 11)).rejects.toMatchObject({
      code: 'BAD_RECORD',
      details: { record: 12, field: 'total' },
    });
  });

  it('refuses an expression that does not parse, naming the field', () => {
    expect(() => createMapper({ total: 'qty +' })).toThrow(/field total/);
  });
});
