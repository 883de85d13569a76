import { parseJsonText } from '../src/values/json-text';

/* JSON numbers a double cannot hold keep their text (README "Canonical values"); everything else parses as JSON.parse does. */
describe('parseJsonText', () => {
  it('parses like JSON.parse when every number fits a double', () => {
    const text = '{"a":[1,2.5,-0.001,1e21,9007199254740992],"b":{"c":null,"d":"x"}}';
    expect(parseJsonText(text)).toEqual(JSON.parse(text));
  });

  it('keeps the text of numbers a double would round, whatever their place', () => {
    expect(
      parseJsonText('{"id": 12345678901234567890, "n": [9007199254740993, 0.1000000000000000000001, 1e400]}'),
    ).toEqual({
      id: '12345678901234567890',
      n: ['9007199254740993', '0.1000000000000000000001', '1e400'],
    });
    expect(parseJsonText('-123456789012345678')).toBe('-123456789012345678');
  });

  it('leaves digits inside strings alone, escaped quotes included', () => {
    expect(parseJsonText('{"s":"a\\" 12345678901234567890 \\"","t":1}')).toEqual({
      s: 'a" 12345678901234567890 "',
      t: 1,
    });
    expect(parseJsonText('{"s":"a\\\\","n":12345678901234567890}')).toEqual({ s: 'a\\', n: '12345678901234567890' });
  });

  it('treats equal values in other spellings as exact (1.50, 100000000000000000000)', () => {
    expect(parseJsonText('[1.50, 100000000000000000000, 0.000000000000000000001]')).toEqual([1.5, 1e20, 1e-21]);
  });
});
