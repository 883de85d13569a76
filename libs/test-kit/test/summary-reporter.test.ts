import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The reporter is plain CommonJS that jest loads by path (jest.config.js), not part of the package surface.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const SummaryReporter = require('../jest/summary-reporter.js') as new (config: { rootDir: string }) => {
  onRunComplete(contexts: unknown, results: unknown): void;
};

/** A run as jest reports it: one file with a pass and a coloured failure, one file that could not run. */
function aggregated(root: string) {
  return {
    numPassedTests: 1,
    numFailedTests: 1,
    numRuntimeErrorTestSuites: 1,
    numPendingTests: 2,
    numTodoTests: 0,
    testResults: [
      {
        testFilePath: join(root, 'infra/test/platform-env.test.ts'),
        testResults: [
          { status: 'passed', fullName: 'the platform gives one database', failureMessages: [] },
          {
            status: 'failed',
            fullName: 'the platform maps large blocks',
            failureMessages: [
              '\u001b[2mexpect(\u001b[22mreceived\u001b[2m).toBeLessThan(\u001b[22mexpected\u001b[2m)\u001b[22m\n\nExpected: < 20\nReceived:   57.4\n    at Object.toBeLessThan (x.ts:75:49)',
            ],
          },
        ],
      },
      {
        testFilePath: join(root, 'gateway/test/broken.test.ts'),
        testExecError: { message: 'Cannot find module ./gone from broken.test.ts' },
        testResults: [],
      },
    ],
  };
}

describe('the summary reporter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-summary-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const root = '/repo';

  function report(countsFile?: string): string {
    let out = '';
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    const before = process.env.VSC_TEST_COUNTS_FILE;
    if (countsFile) process.env.VSC_TEST_COUNTS_FILE = countsFile;
    else delete process.env.VSC_TEST_COUNTS_FILE;
    try {
      new SummaryReporter({ rootDir: root }).onRunComplete([], aggregated(root));
    } finally {
      write.mockRestore();
      if (before === undefined) delete process.env.VSC_TEST_COUNTS_FILE;
      else process.env.VSC_TEST_COUNTS_FILE = before;
    }
    return out;
  }

  it('names each failure by file, test and the first words of its message, above the closing line', () => {
    const lines = report().trim().split('\n');
    expect(lines).toEqual([
      'failed:',
      '  infra/test/platform-env.test.ts › the platform maps large blocks: expect(received).toBeLessThan(expected) Expected: < 20 Received:   57.4',
      '  gateway/test/broken.test.ts: Cannot find module ./gone from broken.test.ts',
      '',
      '1 passed, 2 failed, 2 skipped',
    ]);
  });

  it('writes the counts and the same failures for ./vsc to add up', () => {
    const file = join(dir, 'counts.json');
    report(file);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      passed: 1,
      failed: 2,
      skipped: 2,
      failures: [
        'infra/test/platform-env.test.ts › the platform maps large blocks: expect(received).toBeLessThan(expected) Expected: < 20 Received:   57.4',
        'gateway/test/broken.test.ts: Cannot find module ./gone from broken.test.ts',
      ],
    });
  });
});
