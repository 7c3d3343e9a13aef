// Records each jest run's totals under tmp/test-summary/, so tools/scripts/test-all.sh can print one
// closing line for the whole suite ("N passed, N failed") across every project and kind of test.
const fs = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }
  onRunComplete(_contexts, results) {
    const dir = path.join(__dirname, '..', '..', 'tmp', 'test-summary');
    fs.mkdirSync(dir, { recursive: true });
    const name = `${path.relative(path.join(__dirname, '..', '..'), this.rootDir).replace(/[\\/]/g, '_')}-${process.pid}.json`;
    fs.writeFileSync(
      path.join(dir, name),
      JSON.stringify({
        project: this.rootDir,
        passed: results.numPassedTests,
        failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
        skipped: results.numPendingTests,
      }),
    );
  }
}
module.exports = SummaryReporter;
