import { explainStepError } from '../src/runs/explain-error';

describe("a failed step's advice (the runs page)", () => {
  it.each([
    // PostgreSQL through the cloud worker, as the journey e2e sees it.
    'Activity task failed <- WriteFailed: cannot write film_titles: new row for relation "film_titles" violates check constraint "short" (Failing row contains (1, ACADEMY DINOSAUR).)',
    'WriteFailed: cannot write orders: null value in column "total" of relation "orders" violates not-null constraint',
    "WriteFailed: Duplicate entry '7' for key 'PRIMARY'",
    "WriteFailed: Data too long for column 'title' at row 3",
  ])('says the destination refused the rows and what to change: %s', (error) => {
    expect(explainStepError(error)).toMatch(/^The destination database refused the rows/);
  });

  it('keeps the other kinds apart: an unknown table is not a refused row', () => {
    expect(explainStepError('relation "nope" does not exist')).toMatch(/does not exist where it runs/);
  });
});
