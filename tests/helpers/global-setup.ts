import pg from 'pg';
import { testDatabaseConfig } from './pg-config.js';

/** Fails fast, with a clear message, when the test PostgreSQL is not reachable. */
export default async function setup(): Promise<void> {
  const client = new pg.Client(testDatabaseConfig());
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new Error(`[shopify-ingest tests] PostgreSQL is not reachable at ${JSON.stringify(testDatabaseConfig())}: ${(error as Error).message}. Run .ci/run, or start it: pg_ctlcluster --skip-systemctl-redirect 15 main start`);
  } finally {
    await client.end().catch(() => {});
  }
}
