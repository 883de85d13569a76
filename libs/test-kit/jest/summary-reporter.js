// Prints the closing line CI reads: "N passed, N failed" (", N skipped" when any were skipped), and
// above it the failed tests by file and name, so the end of a long log says what failed.
// With VSC_TEST_COUNTS_FILE set it also writes the counts and failures there, so ./vsc can add up
// several runs and name their failures again at the very end.
const { writeFileSync } = require('node:fs');
const { relative } = require('node:path');
const { stripVTControlCharacters } = require('node:util');

/** The failed tests (and files that failed to run) of a run, one line each. */
function failuresOf(results, rootDir) {
  const lines = [];
  for (const file of results.testResults) {
    const name = relative(rootDir, file.testFilePath);
    if (file.testExecError) lines.push(`${name}: ${firstLine(file.testExecError.message)}`);
    for (const test of file.testResults)
      if (test.status === 'failed') lines.push(`${name} › ${test.fullName}: ${firstLine(test.failureMessages[0])}`);
  }
  return lines;
}

function firstLine(message) {
  // Jest's messages start with colour codes and often a blank line; the first words are what matter.
  const text = stripVTControlCharacters(String(message ?? ''))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return (text.slice(0, 3).join(' ') || 'no message').slice(0, 300);
}

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    const failures = failuresOf(results, this.rootDir);
    if (failures.length) process.stdout.write(`\nfailed:\n${failures.map((f) => `  ${f}\n`).join('')}`);
    process.stdout.write(
      `\n${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
    );
    if (process.env.VSC_TEST_COUNTS_FILE)
      writeFileSync(
        process.env.VSC_TEST_COUNTS_FILE,
        JSON.stringify({ passed: results.numPassedTests, failed, skipped, failures }),
      );
  }
}
module.exports = SummaryReporter;
