/**
 * The calls of one loaded bundle (or one VM) run one at a time, in order: the last call still in
 * flight, after which the next starts. A call that ended on the calling task (the warm-call fast path)
 * is never queued, so a bundle whose calls end synchronously pays no promise for the order.
 */
export class CallQueue {
  private tail: Promise<void> | undefined;

  /** The call in flight to wait for, or undefined (the next call may start at once). */
  get last(): Promise<void> | undefined {
    return this.tail;
  }

  /** `call` is now the last in flight; returned as it is. */
  push<T>(call: Promise<T>): Promise<T> {
    const tail = call.then(
      () => undefined,
      () => undefined,
    );
    this.tail = tail;
    void tail.then(() => {
      if (this.tail === tail) this.tail = undefined;
    });
    return call;
  }
}
