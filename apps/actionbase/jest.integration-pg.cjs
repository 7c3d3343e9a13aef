// The core's REST, conformance and WAL/CDC tests again, every core on its own fresh PostgreSQL
// database (TEST_STORAGE, see libs/testing), plus the PostgreSQL-only tests (test/postgres). The abuse
// tests stay on SQLite only: most open the SQLite file themselves, and one store is enough to show a
// refusal changes nothing (requests.int.spec.ts runs on both, as a sample).
process.env.TEST_STORAGE = 'postgres';
const base = require('../../jest.preset.cjs')(__dirname, { integration: true });
module.exports = {
  ...base,
  testMatch: [
    '<rootDir>/src/http/api.spec.ts',
    '<rootDir>/test/conformance/**/*.int.spec.ts',
    '<rootDir>/test/wal-cdc.int.spec.ts',
    '<rootDir>/test/abuse/requests.int.spec.ts',
    '<rootDir>/test/postgres/**/*.int.spec.ts',
  ],
  setupFilesAfterEnv: ['<rootDir>/test/drop-test-databases.ts'],
};
