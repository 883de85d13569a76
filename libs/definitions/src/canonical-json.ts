/**
 * Canonical JSON after RFC 8785 (JCS): object keys sorted by UTF-16 code units (what `Array#sort`
 * does by default), no whitespace, strings and numbers as ECMAScript's JSON.stringify prints them
 * (JCS defines its number form as exactly that). `undefined` members are left out, as JSON does.
 * Non-finite numbers have no JSON form: refused rather than hashed as `null`, so two different
 * documents can never share a hash through them.
 */
export function canonicalJson(value: unknown): string {
  let out = '';
  writeCanonicalJson(value, (part) => {
    out += part;
  });
  return out;
}

/**
 * The same text in parts, handed to `write` in order: a hash of a 13 MB document (the SDK factory's
 * specHash) takes the parts as they come instead of holding the whole text and its pieces at once.
 */
export function writeCanonicalJson(value: unknown, write: (part: string) => void): void {
  if (value === null) return write('null');
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return write(JSON.stringify(value));
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON has no form for the number ${value}`);
      return write(JSON.stringify(value));
    case 'object': {
      if (Array.isArray(value)) {
        write('[');
        value.forEach((v, i) => {
          if (i > 0) write(',');
          writeCanonicalJson(v === undefined ? null : v, write);
        });
        return write(']');
      }
      if (value instanceof Date) return write(JSON.stringify(value.toISOString()));
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort();
      write('{');
      keys.forEach((k, i) => {
        write(i > 0 ? `,${JSON.stringify(k)}:` : `${JSON.stringify(k)}:`);
        writeCanonicalJson(record[k], write);
      });
      return write('}');
    }
    default:
      throw new TypeError(`canonical JSON has no form for a ${typeof value}`);
  }
}
