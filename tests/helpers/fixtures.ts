/**
 * The real Shopify samples in `../shared/fixtures` (or `SHOPIFY_FIXTURES_DIR`). They live beside
 * the clone, not in it, so a clone on its own (a contributor's laptop, a fork's CI) has none: the
 * tests that read them are then skipped with a visible reason, and every other test still runs.
 * tests/helpers/global-setup.ts says once per run that they were skipped.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, TestRunner } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Where the samples are read from. */
export function fixturesDir(): string {
  return process.env.SHOPIFY_FIXTURES_DIR ?? path.resolve(root, '../shared/fixtures');
}

/** True when the samples folder exists and holds something (an empty folder counts as absent). */
export function fixturesAvailable(): boolean {
  const dir = fixturesDir();
  return existsSync(dir) && readdirSync(dir).length > 0;
}

/** The note a skipped test carries (vitest prints it beside the test). */
export function fixturesSkipNote(): string {
  return `needs the real Shopify samples in ${fixturesDir()} (../shared/fixtures beside the clone, or set SHOPIFY_FIXTURES_DIR)`;
}

/**
 * Reads a sample. Inside a test, when the samples folder is absent, the test is skipped with
 * {@link fixturesSkipNote} instead of failing. A single file missing from a folder that exists
 * is a real error (a renamed or deleted sample) and fails.
 */
export async function readFixture(relative: string): Promise<string> {
  if (!fixturesAvailable()) {
    const test = TestRunner.getCurrentTest();
    if (test) test.context.skip(fixturesSkipNote());
    throw new Error(`[shopify-ingest tests] ${fixturesSkipNote()}; call skipFileWithoutFixtures() in files whose hooks read samples`);
  }
  const file = path.join(fixturesDir(), relative);
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`[shopify-ingest tests] fixture ${file} is missing from ${fixturesDir()}. ${(error as Error).message}`);
  }
}

/**
 * For a file whose `beforeAll` reads samples: skips each of its tests with the reason when the
 * samples are absent. Returns whether they are present, for the hook to return early on.
 */
export function skipFileWithoutFixtures(): boolean {
  const available = fixturesAvailable();
  if (!available) beforeEach((context) => context.skip(fixturesSkipNote()));
  return available;
}
