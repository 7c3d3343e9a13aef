import { afterAll } from '@jest/globals';
import { dropTestDatabases } from '@pipeline/testing';

// Each core of a test file ran on its own PostgreSQL database (TEST_STORAGE=postgres): drop them.
afterAll(async () => dropTestDatabases());
