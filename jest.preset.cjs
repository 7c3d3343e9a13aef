// Shared jest settings. The repository is ESM: jest runs with --experimental-vm-modules
// (see nx.json targetDefaults) and @swc/jest strips types without changing the module format.
const path = require('node:path');
const fs = require('node:fs');

const root = __dirname;
const tsconfig = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8'));
const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(tsconfig.compilerOptions.paths)) {
  moduleNameMapper[`^${alias.replace('/', '\\/')}$`] = path.join(root, target);
}

/** @param {string} projectDir @param {{integration?: boolean}} [opts] */
module.exports = function preset(projectDir, opts = {}) {
  return {
    rootDir: projectDir,
    // Node's environment that also removes the folders a test file made with tempDir (@pipeline/testing).
    testEnvironment: path.join(root, 'libs/testing/src/jest-environment.cjs'),
    extensionsToTreatAsEsm: ['.ts'],
    moduleNameMapper,
    transform: {
      '^.+\\.ts$': [
        '@swc/jest',
        {
          jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
          module: { type: 'es6' },
        },
      ],
    },
    testMatch: opts.integration ? ['<rootDir>/test/**/*.int.spec.ts'] : ['<rootDir>/src/**/*.spec.ts'],
    testTimeout: opts.integration ? 120_000 : 20_000,
    passWithNoTests: false,
    reporters: ['default', path.join(root, 'tools/scripts/jest-summary-reporter.cjs')],
  };
};
