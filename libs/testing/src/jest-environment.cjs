// The jest environment of every project (jest.preset.cjs): Node's own, and after each test file, once every
// afterAll of that file has run (processes stopped), it removes the folders the file made with `tempDir` of
// @pipeline/testing. A hook of the file itself would run too early: afterAll hooks run in the order they were
// registered, and the helper's module is imported before the file registers its own.
const { rmSync } = require('node:fs');
const { TestEnvironment } = require('jest-environment-node');

/** Where tempDir() records its folders: one set per test file, on that file's global. */
const KEY = '__pipelineTempDirs';

class PipelineTestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global[KEY] = new Set();
  }

  async teardown() {
    const dirs = this.global?.[KEY];
    for (const dir of dirs ?? []) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    dirs?.clear();
    await super.teardown();
  }
}

module.exports = PipelineTestEnvironment;
