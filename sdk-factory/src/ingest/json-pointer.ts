/** RFC 6901 JSON pointers: how problems name a place and how local `$ref`s are resolved. */

export function escapeToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function unescapeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

export function pointer(...tokens: (string | number)[]): string {
  return tokens.map((t) => `/${escapeToken(String(t))}`).join('');
}

export function childPointer(base: string, ...tokens: (string | number)[]): string {
  return base + pointer(...tokens);
}

/**
 * The tokens of a local reference (`#/components/schemas/Pet`), or undefined when the reference is
 * not a local JSON pointer. The fragment is percent-decoded first (RFC 6901 section 6).
 */
export function refTokens(ref: string): string[] | undefined {
  if (!ref.startsWith('#')) return undefined;
  let fragment: string;
  try {
    fragment = decodeURIComponent(ref.slice(1));
  } catch {
    return undefined;
  }
  if (fragment === '') return [];
  if (!fragment.startsWith('/')) return undefined;
  return fragment.slice(1).split('/').map(unescapeToken);
}

/** The value at `tokens` inside `root`, own properties only (never `__proto__` or `constructor` of a prototype). */
export function resolveTokens(root: unknown, tokens: readonly string[]): { found: boolean; value: unknown } {
  let node: unknown = root;
  for (const token of tokens) {
    if (Array.isArray(node)) {
      if (!/^(0|[1-9]\d*)$/.test(token) || Number(token) >= node.length) return { found: false, value: undefined };
      node = node[Number(token)];
    } else if (node !== null && typeof node === 'object' && Object.prototype.hasOwnProperty.call(node, token)) {
      node = (node as Record<string, unknown>)[token];
    } else return { found: false, value: undefined };
  }
  return { found: true, value: node };
}

/** Sets an own property, `__proto__` included (a plain assignment would replace the prototype instead). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
