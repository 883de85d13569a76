// Prints the closing line CI reads: "N passed, N failed" (", N skipped" when any were skipped).
// With VSC_TEST_COUNTS_FILE set it also writes the counts there, so ./vsc can add up several runs.
const { writeFileSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(
      `\n${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
    );
    if (process.env.VSC_TEST_COUNTS_FILE)
      writeFileSync(
        process.env.VSC_TEST_COUNTS_FILE,
        JSON.stringify({ passed: results.numPassedTests, failed, skipped }),
      );
  }
}
module.exports = SummaryReporter;
