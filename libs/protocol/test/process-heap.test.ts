import { DEFAULT_HEAP_GROWING_PERCENT, limitHeapGrowth } from '@vansales/protocol';

describe('limitHeapGrowth', () => {
  it('sets the default unless the environment or node itself says otherwise', () => {
    expect(limitHeapGrowth({}, [])).toBe(DEFAULT_HEAP_GROWING_PERCENT);
    expect(limitHeapGrowth({ VSC_HEAP_GROWING_PERCENT: '30' }, [])).toBe(30);
    // 0 leaves V8's own factor; a flag on node's command line wins over the environment.
    expect(limitHeapGrowth({ VSC_HEAP_GROWING_PERCENT: '0' }, [])).toBe(0);
    expect(limitHeapGrowth({ VSC_HEAP_GROWING_PERCENT: '30' }, ['--heap-growing-percent=80'])).toBe(80);
  });

  it('refuses a value that is not a whole percentage, naming the variable', () => {
    for (const bad of ['half', '-5', '12.5', '1000'])
      expect(() => limitHeapGrowth({ VSC_HEAP_GROWING_PERCENT: bad }, [])).toThrow(
        `VSC_HEAP_GROWING_PERCENT=${bad} is not a whole number from 0 to 400`,
      );
  });
});
