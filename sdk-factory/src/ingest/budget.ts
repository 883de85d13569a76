import { limitError, type Deadline } from './limits';

/**
 * How many JSON values the manifest holds so far, and the clock: what stops a document whose
 * shared parts (a parameter or response used by every operation) multiply into more than any
 * consumer can hold. Values reused by reference are counted at every use, as serializing would.
 */
export class Budget {
  private spent = 0;
  constructor(
    private readonly max: number,
    private readonly deadline: Deadline,
  ) {}

  get nodes(): number {
    return this.spent;
  }

  spend(nodes: number): void {
    this.spent += nodes;
    if (this.spent > this.max)
      throw limitError(
        'maxManifestNodes',
        `the manifest would hold more than ${this.max} values (shared parameters, responses or headers multiplied by their uses): refused`,
      );
    // The clock is read every ~64k values: cheap, and often enough to stop within a few ms.
    if ((this.spent & 0xffff) < nodes) this.deadline.check('building the manifest');
  }

  /** Spends the size of a plain JSON value (counted iteratively; it may be a large example). */
  spendValue(value: unknown): void {
    if (value === null || typeof value !== 'object') return this.spend(1);
    this.spend(countValues(value));
  }
}

export function countValues(root: unknown): number {
  let n = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    n++;
    if (node !== null && typeof node === 'object')
      for (const v of Array.isArray(node) ? node : Object.values(node)) stack.push(v);
  }
  return n;
}
