import { DataflowErrorCode } from '../src/errors';
import { mysqlWriteError } from '../src/mysql/writer';
import { pgWriteError } from '../src/postgres/writer';

/** A socket error as Node raises it: a string code and a negative errno. */
const socketError = (code: string, errno: number) =>
  Object.assign(new Error(`read ${code}`), { code, errno, syscall: 'read' });

describe('write errors: the connection failing is not the write failing', () => {
  // The crash soak killed the cloud PostgreSQL mid-COPY: `read ECONNRESET` ended the sync as a
  // non-retryable WRITE_FAILED instead of a retry once the server was back.
  it.each([
    ['PostgreSQL', (e: unknown) => pgWriteError(e, 'orders', 0)],
    ['MySQL/MariaDB', (e: unknown) => mysqlWriteError(e, 'orders', 0)],
  ])('%s: a reset or refused socket is CONNECTION_FAILED', (_name, map) => {
    for (const [code, errno] of [
      ['ECONNRESET', -104],
      ['EPIPE', -32],
      ['ECONNREFUSED', -111],
    ] as const)
      expect(map(socketError(code, errno))).toMatchObject({ code: DataflowErrorCode.CONNECTION_FAILED });
  });

  it('keeps a statement error a write or value error', () => {
    expect(pgWriteError(Object.assign(new Error('duplicate key'), { code: '23505' }), 'orders', 0)).toMatchObject({
      code: DataflowErrorCode.WRITE_FAILED,
    });
    expect(
      pgWriteError(
        Object.assign(new Error('invalid input'), { code: '22P02', where: 'COPY orders, line 3, column amount: "x"' }),
        'orders',
        10,
      ),
    ).toMatchObject({ code: DataflowErrorCode.BAD_VALUE, column: 'amount', row: 12 });
    expect(
      mysqlWriteError(
        Object.assign(new Error("Column 'note' cannot be null"), {
          errno: 1048,
          code: 'ER_BAD_NULL_ERROR',
          sqlMessage: "Column 'note' cannot be null",
        }),
        'orders',
        0,
      ),
    ).toMatchObject({ code: DataflowErrorCode.BAD_VALUE, column: 'note' });
    expect(pgWriteError(Object.assign(new Error('terminating'), { code: '57P01' }), 'orders', 0)).toMatchObject({
      code: DataflowErrorCode.CONNECTION_FAILED,
    });
  });
});
