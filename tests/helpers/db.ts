import { fixturesAvailable, fixturesSkipNote } from './fixtures.js';

export * from './test-database.js';

// The Shopify samples' helpers moved to ./fixtures.ts (skipped with a reason when absent); re-exported for old imports.
export { fixturesDir, readFixture } from './fixtures.js';

/** Why the shared Shopify samples cannot be read (for `describe.skipIf` with a visible reason), or null. */
export const fixturesMissing: string | null = fixturesAvailable() ? null : fixturesSkipNote();
