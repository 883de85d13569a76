import { DataflowError, DataflowErrorCode } from '../errors';

/**
 * PostgreSQL array literals ('{1,NULL,"a b"}', '{{1,2},{3,4}}', '[0:1]={1,2}'). The driver's own
 * parser only knows built-in element types and would parse dates into Date objects; this one
 * hands each element's text form to the element type's converter.
 */
export function parsePgArray(text: string, convert: (element: string) => unknown): unknown[] {
  let i = 0;
  if (text.charCodeAt(0) === 91 /* [ */) {
    // Explicit lower bounds: the values are what matters, the bounds are dropped.
    i = text.indexOf('=') + 1;
  }
  const fail = (): never => {
    throw new DataflowError(
      DataflowErrorCode.BAD_VALUE,
      `malformed array literal ${JSON.stringify(text.slice(0, 80))}`,
    );
  };
  const parse = (): unknown[] => {
    if (text[i] !== '{') fail();
    i++;
    const out: unknown[] = [];
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      const c = text[i];
      if (c === '{') out.push(parse());
      else if (c === '"') {
        i++;
        let s = '';
        let start = i;
        for (;;) {
          if (i >= text.length) fail();
          const ch = text.charCodeAt(i);
          if (ch === 92 /* \ */) {
            s += text.slice(start, i) + text[i + 1];
            i += 2;
            start = i;
          } else if (ch === 34 /* " */) {
            s += text.slice(start, i);
            i++;
            break;
          } else i++;
        }
        out.push(convert(s));
      } else {
        const start = i;
        while (i < text.length && text[i] !== ',' && text[i] !== '}') i++;
        const raw = text.slice(start, i);
        out.push(raw === 'NULL' ? null : convert(raw));
      }
      if (text[i] === ',') i++;
      else if (text[i] === '}') {
        i++;
        return out;
      } else fail();
    }
  };
  return parse();
}

/**
 * The array literal for a canonical array. Nested JS arrays are extra dimensions, except when
 * the element itself is a JSON value (`flatElements`), where an array is one element.
 */
export function formatPgArray(
  values: readonly unknown[],
  element: (v: unknown) => string,
  flatElements = false,
): string {
  let out = '{';
  for (let k = 0; k < values.length; k++) {
    if (k) out += ',';
    const v = values[k];
    if (v === null || v === undefined) out += 'NULL';
    else if (Array.isArray(v) && !flatElements) out += formatPgArray(v, element, flatElements);
    else out += `"${element(v).replace(/[\\"]/g, '\\$&')}"`;
  }
  return `${out}}`;
}
