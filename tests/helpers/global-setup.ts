import pg from 'pg';
import { testDatabaseConfig } from './pg-config.js';
import { fixturesAvailable, fixturesSkipNote } from './fixtures.js';
import { buildBulkWorker } from './bulk-worker.js';

/** Fails fast, with a clear message, when the test PostgreSQL is not reachable. */
export default async function setup(): Promise<void> {
  // Said once per run; each skipped test carries the same note.
  if (!fixturesAvailable()) process.stderr.write(`[shopify-ingest tests] the tests that read real Shopify samples are skipped: each ${fixturesSkipNote()}\n`);
  const client = new pg.Client(testDatabaseConfig());
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new Error(`[shopify-ingest tests] PostgreSQL is not reachable at ${JSON.stringify(testDatabaseConfig())}: ${(error as Error).message}. Run .ci/run, or start it: pg_ctlcluster --skip-systemctl-redirect 15 main start`);
  } finally {
    await client.end().catch(() => {});
  }
  // Bulk files are read in the worker thread, as with the built package, small ones too (the
  // package reads files of fewer than 10,000 lines in the calling thread; tests that need the
  // calling thread say `bulk: { worker: false }`).
  process.env.SHOPIFY_INGEST_BULK_WORKER_FILE ??= await buildBulkWorker();
  process.env.SHOPIFY_INGEST_BULK_WORKER_MIN_LINES ??= '0';
}
