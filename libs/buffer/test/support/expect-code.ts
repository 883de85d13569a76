import { BufferError, type BufferErrorCode } from '@vansales/buffer';

/** Awaits a promise that must fail with a BufferError of this code; returns the error. */
export async function expectCode(promise: Promise<unknown>, code: BufferErrorCode): Promise<BufferError> {
  try {
    await promise;
  } catch (err) {
    if (!(err instanceof BufferError)) throw new Error(`expected BufferError ${code}, got ${String(err)}`);
    if (err.code !== code) throw new Error(`expected BufferError ${code}, got ${err.code}: ${err.message}`);
    return err;
  }
  throw new Error(`expected BufferError ${code}, but it succeeded`);
}
