// The PostgreSQL-only tests (test/postgres) run under jest.integration-pg.cjs.
const base = require('../../jest.preset.cjs')(__dirname, { integration: true });
module.exports = { ...base, testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/postgres/'] };
