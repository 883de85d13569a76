import { readFileSync } from 'node:fs';
import jsonata from 'jsonata';
import { runTransform } from '@vansales/transforms';
import { batchesOf, collect } from './support';

/**
 * JSONata before 2.2.1 let an expression reach Object.prototype (jsonata-js/jsonata PR 799, and the
 * older transform-operator hole of CVE-2024-27307). Expressions come from definitions, that is from
 * users: none of these may change any object of the worker.
 */
const ATTEMPTS = [
  `{"__proto__": {"polluted": "yes"}}`,
  `$merge([{}, {"__proto__": {"polluted": "yes"}}])`,
  `$ ~> | $ | {"__proto__": {"polluted": "yes"}} |`,
  `$ ~> | __proto__ | {"polluted": "yes"} |`,
  `$ ~> | constructor.prototype | {"polluted": "yes"} |`,
  `| __lookupGetter__("__proto__")() | {"polluted": "yes"} |`,
  `$spread({"__proto__": {"polluted": "yes"}})`,
  `{"constructor": {"prototype": {"polluted": "yes"}}}`,
];

const clean = () => {
  expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  expect((Object.prototype as { polluted?: unknown }).polluted).toBeUndefined();
};

afterEach(() => {
  delete (Object.prototype as { polluted?: unknown }).polluted;
});

describe('prototype pollution through expressions', () => {
  it('runs a JSONata that has the 2.2.1 fix', () => {
    const [major, minor, patch] = (
      JSON.parse(readFileSync(require.resolve('jsonata/package.json'), 'utf8')) as { version: string }
    ).version
      .split('.')
      .map(Number);
    expect(major! * 10_000 + minor! * 100 + patch!).toBeGreaterThanOrEqual(20_201);
  });

  it.each(ATTEMPTS)('%s changes no prototype', async (source) => {
    try {
      await jsonata(source).evaluate({ a: 1 });
    } catch {
      // refused is fine; polluting is not
    }
    clean();
    try {
      await collect(runTransform({ op: 'map', fields: { x: source } }, { left: batchesOf([{ a: 1 }, { a: 2 }]) }));
    } catch {
      // same
    }
    clean();
  });
});
