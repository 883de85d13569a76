import { comparableValue } from '@vansales/dataflow';
import { copyEscape, pgToText } from '../src/postgres/copy-text';
import { mysqlLiteral, quoteString } from '../src/mysql/literals';
import { float32Value, normaliseDecimal, trimFraction } from '../src/values/canonical-values';
import { formatPgArray, parsePgArray } from '../src/values/pg-array';

describe('canonical values', () => {
  it('trims fractional seconds the way PostgreSQL prints them', () => {
    expect(trimFraction('10:00:00.000100')).toBe('10:00:00.0001');
    expect(trimFraction('10:00:00.000000')).toBe('10:00:00');
    expect(trimFraction('2024-01-01 10:00:00.500Z')).toBe('2024-01-01 10:00:00.5Z');
    expect(trimFraction('10:00:00.50+05:30')).toBe('10:00:00.5+05:30');
    expect(trimFraction('10:00:00')).toBe('10:00:00');
  });

  it('narrows floats to their shortest float32 form', () => {
    expect(float32Value(1.2345677614212036)).toBe(1.2345678);
    expect(float32Value(0.10000000149011612)).toBe(0.1);
    expect(Math.fround(float32Value(3.4028234663852886e38))).toBe(3.4028234663852886e38);
  });

  it('normalises decimals exactly', () => {
    expect(normaliseDecimal('0012.3400')).toBe('12.34');
    expect(normaliseDecimal('-0.000')).toBe('0');
    expect(normaliseDecimal('1.5e3')).toBe('1500');
    expect(normaliseDecimal('1.5e-3')).toBe('0.0015');
    expect(normaliseDecimal(5)).toBe('5');
    expect(normaliseDecimal('18446744073709551615')).toBe('18446744073709551615');
  });

  it('compares across widenings and time zones', () => {
    expect(comparableValue({ kind: 'integer', bits: 32, unsigned: true }, 5)).toBe(
      comparableValue({ kind: 'decimal', precision: 20, scale: 0 }, '5'),
    );
    expect(comparableValue({ kind: 'timestamp', withTimeZone: true }, '2024-01-01T10:00:00.5Z')).toBe(
      comparableValue({ kind: 'timestamp', withTimeZone: false }, '2024-01-01 10:00:00.500000'),
    );
    expect(comparableValue({ kind: 'json' }, { b: 1, a: 2 })).toBe(comparableValue({ kind: 'json' }, { a: 2, b: 1 }));
    expect(comparableValue({ kind: 'set', values: ['a', 'b'] }, ['a', 'b'])).toBe(
      comparableValue({ kind: 'array', element: { kind: 'text' } }, ['a', 'b']),
    );
  });
});

describe('PostgreSQL arrays and COPY text', () => {
  it('parses array literals with quoting, NULLs, nesting and bounds', () => {
    expect(parsePgArray('{1,NULL,3}', Number)).toEqual([1, null, 3]);
    expect(parsePgArray('{"a b","c,d","e\\"f","NULL",""}', (s) => s)).toEqual(['a b', 'c,d', 'e"f', 'NULL', '']);
    expect(parsePgArray('{{1,2},{3,4}}', Number)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(parsePgArray('[0:1]={7,8}', Number)).toEqual([7, 8]);
    expect(parsePgArray('{}', Number)).toEqual([]);
    expect(() => parsePgArray('{1,2', Number)).toThrow();
  });

  it('formats arrays that PostgreSQL reads back', () => {
    expect(formatPgArray(['a b', null, 'q"\\', ''], String)).toBe('{"a b",NULL,"q\\"\\\\",""}');
    expect(formatPgArray([[1, 2], [3]], String)).toBe('{{"1","2"},{"3"}}');
    expect(formatPgArray([{ a: [1] }, [2]], (v) => JSON.stringify(v), true)).toBe('{"{\\"a\\":[1]}","[2]"}');
  });

  it('escapes COPY fields and refuses NUL', () => {
    expect(copyEscape('a\tb\nc\\d\re')).toBe('a\\tb\\nc\\\\d\\re');
    expect(copyEscape('plain')).toBe('plain');
    expect(() => copyEscape('a\u0000b')).toThrow(/NUL/);
    expect(pgToText({ kind: 'binary' })({ $binary: 'AP8=' })).toBe('\\x00ff');
    expect(pgToText({ kind: 'set', values: ['a', 'b'] })(['a', 'b'])).toBe('{"a","b"}');
    expect(() => pgToText({ kind: 'integer', bits: 16 })(70000)).toThrow(/out of range/);
    expect(() => pgToText({ kind: 'integer', bits: 64 })('9223372036854775808')).toThrow(/out of range/);
  });
});

describe('MySQL literals', () => {
  it('quotes strings with backslash escapes', () => {
    expect(quoteString("it's \\ \n \u0000")).toBe("'it\\'s \\\\ \\n \\0'");
    expect(mysqlLiteral({ kind: 'binary' })({ $binary: 'AP8=' })).toBe("X'00ff'");
    expect(mysqlLiteral({ kind: 'timestamp', withTimeZone: false })('2024-01-01T10:00:00.5Z')).toBe(
      "'2024-01-01 10:00:00.5'",
    );
    expect(mysqlLiteral({ kind: 'decimal' })(1e21)).toBe('1000000000000000000000');
    expect(mysqlLiteral({ kind: 'bit', length: 4 })('0101')).toBe("b'0101'");
    expect(mysqlLiteral({ kind: 'integer', bits: 64, unsigned: true })('18446744073709551615')).toBe(
      '18446744073709551615',
    );
    expect(() => mysqlLiteral({ kind: 'integer', bits: 8, unsigned: true })(256)).toThrow(/out of range/);
    expect(() => mysqlLiteral({ kind: 'float', bits: 64 })('NaN')).toThrow(/cannot hold/);
    expect(() => mysqlLiteral({ kind: 'date' })('infinity')).toThrow(/cannot hold/);
    expect(() => mysqlLiteral({ kind: 'integer', bits: 32 })('1; DROP TABLE x')).toThrow(/not an integer/);
  });
});
