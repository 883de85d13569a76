/**
 * Thrown anywhere inside the guard to stop at the first reason a text is refused; the entry point
 * turns it into `{ allowed: false, reason }`. Deep AST walks stay simple that way.
 */
export class SqlRefusal extends Error {
  override name = 'SqlRefusal';
}

export function refuse(reason: string): never {
  throw new SqlRefusal(reason);
}
