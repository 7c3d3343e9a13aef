// Records each jest run's totals under tmp/test-summary/, so tools/scripts/test-all.sh can print one
// closing line for the whole suite ("N passed, N failed") across every project and kind of test, and
// name every failed test (with the first lines of its failure) after it, where a log's tail shows them.
const fs = require('node:fs');
const path = require('node:path');

const workspaceRoot = path.join(__dirname, '..', '..');
const FAILURE_LINES = 12;

function firstLines(message) {
  // jest's failure messages carry ANSI colours; the summary is read as plain text.
  const plain = message.replace(/\u001b\[[0-9;]*m/g, '');
  return plain
    .split('\n')
    .filter((l) => l.trim() !== '' && !/node_modules|<anonymous>/.test(l))
    .slice(0, FAILURE_LINES)
    .join('\n');
}

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }
  onRunComplete(_contexts, results) {
    const dir = path.join(workspaceRoot, 'tmp', 'test-summary');
    fs.mkdirSync(dir, { recursive: true });
    const name = `${path.relative(workspaceRoot, this.rootDir).replace(/[\\/]/g, '_')}-${process.pid}.json`;
    const failures = [];
    for (const suite of results.testResults) {
      const file = path.relative(workspaceRoot, suite.testFilePath);
      if (suite.testExecError || (suite.failureMessage && suite.numFailingTests === 0)) {
        failures.push({ file, test: '(suite did not run)', message: firstLines(suite.failureMessage ?? String(suite.testExecError?.message)) });
      }
      for (const t of suite.testResults) {
        if (t.status === 'failed') failures.push({ file, test: t.fullName, message: firstLines(t.failureMessages.join('\n')) });
      }
    }
    fs.writeFileSync(
      path.join(dir, name),
      JSON.stringify({
        project: this.rootDir,
        passed: results.numPassedTests,
        failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
        skipped: results.numPendingTests,
        failures,
      }),
    );
  }
}
module.exports = SummaryReporter;
