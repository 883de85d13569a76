// The only ways text from a specification reaches generated source: as a string literal, as a property
// key, or inside a block comment. Everything a spec says goes through one of these three, so a hostile
// description, name or enum value can never close a comment, end a string or open a template.

/**
 * A string literal: JSON.stringify's escaping (quotes, backslashes, control characters, lone surrogates),
 * plus the line separators U+2028/U+2029 (line terminators to older parsers) and `<` (so `</script>`
 * cannot end an inline script a bundle is embedded in).
 */
export function stringLiteral(text: string): string {
  return JSON.stringify(text).replace(
    /[\u2028\u2029<]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * A property key in an object type or literal: bare when it is a plain ASCII identifier, else quoted.
 * `__proto__` is always quoted: in an object literal its bare form sets the prototype.
 */
export function propertyKey(name: string): string {
  return IDENTIFIER.test(name) && name !== '__proto__' ? name : stringLiteral(name);
}

/**
 * A JSDoc block from spec prose, or '' when there is none. `*\/` is escaped (a description reading
 * `release/*\/*` must not close the comment), and line breaks of every kind become comment lines.
 */
export function docComment(lines: ReadonlyArray<string | undefined>, indent = ''): string {
  const text = lines
    .filter((line): line is string => typeof line === 'string' && line.trim() !== '')
    .join('\n\n')
    // Control characters (other than tab and line breaks) have no business in a comment.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, ' ')
    .replace(/\*\//g, '*\\/');
  if (text === '') return '';
  const body = text
    .split(/\r\n|[\n\r\u2028\u2029]/)
    .map((line) => `${indent} *${line === '' ? '' : ` ${line}`}`.trimEnd())
    .join('\n');
  return `${indent}/**\n${body}\n${indent} */\n`;
}
