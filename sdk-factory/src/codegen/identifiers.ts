// Identifiers derived from specification text (schema names, operationIds, paths). Only ASCII letters,
// digits and `_` survive, so a name can never carry syntax; reserved words, names of TypeScript's own
// types, leading digits and collisions (case-insensitively, as generated file names share them) get a
// suffix. `$` is never produced: the generator's own locals start with `$` and so cannot collide.

const RESERVED = new Set(
  [
    // ECMAScript reserved words, strict-mode and contextual ones that cannot name a binding or a type.
    'break case catch class const continue debugger default delete do else enum export extends false finally',
    'for function if import in instanceof new null return super switch this throw true try typeof var void',
    'while with yield let static implements interface package private protected public await async arguments eval',
    // TypeScript's type keywords and built-in names a type alias cannot take or should not shadow.
    'any unknown never object string number boolean symbol bigint undefined type keyof infer is asserts',
    'declare namespace module readonly abstract as satisfies unique global require exports constructor prototype',
    '__proto__ globalThis',
  ]
    .join(' ')
    .split(' '),
);

/** Words of a name: runs of ASCII letters and digits, split at case changes (`getHTTPStatus` → get HTTP Status). */
function words(text: string): string[] {
  return (text.match(/[A-Za-z0-9]+/g) ?? []).flatMap((run) => run.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g) ?? []);
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** `repos/get-content` → `ReposGetContent`; `'' ` or all-symbol text → the fallback. */
export function pascalCase(text: string, fallback: string): string {
  const name = words(text).map(capitalize).join('');
  return name === '' ? fallback : name;
}

/** `repos/get-content` → `reposGetContent`; a name whose first word is all capitals keeps it (`HTTPGet` → `httpGet`). */
export function camelCase(text: string, fallback: string): string {
  const parts = words(text);
  if (parts.length === 0) return fallback;
  const [first = '', ...rest] = parts;
  return first.toLowerCase() + rest.map(capitalize).join('');
}

/** Hands out identifiers unique within one scope (case-insensitively), never reserved, never starting with a digit. */
export class Namer {
  private readonly taken = new Set<string>();

  /** `accept` may refuse a free candidate (e.g. when a derived companion name is taken). */
  claim(base: string, accept: (candidate: string) => boolean = () => true): string {
    let root = /^[0-9]/.test(base) ? `_${base}` : base;
    if (RESERVED.has(root)) root = `${root}_`;
    for (let n = 1; ; n += 1) {
      const candidate = n === 1 ? root : `${root}${n}`;
      if (!this.isTaken(candidate) && accept(candidate)) {
        this.taken.add(candidate.toLowerCase());
        return candidate;
      }
    }
  }

  isTaken(name: string): boolean {
    return this.taken.has(name.toLowerCase());
  }

  /** Marks a name used without handing it out (a companion such as `listPetsPages`). */
  reserve(name: string): void {
    this.taken.add(name.toLowerCase());
  }
}
